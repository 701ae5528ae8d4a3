"""Recording account actions, and counting wrong PINs to pause guessing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from kb.crypto import keyring
from kb.ils.models import AccountAction, AccountOutcome, IlsAccountEvent

_FAILED = (AccountOutcome.WRONG_PIN, AccountOutcome.UNKNOWN_PATRON)


@dataclass(frozen=True)
class Actor:
    """Who acted, as keyed hashes: the library card and the conversation."""

    barcode_index: str
    owner_index: str

    @classmethod
    def of(cls, barcode: str, owner: str) -> Actor:
        ring = keyring()
        return cls(ring.blind_index(barcode, "ils-barcode"), ring.blind_index(owner, "ils-owner"))


def record_event(
    session: Session,
    actor: Actor,
    action: AccountAction,
    outcome: AccountOutcome,
    *,
    at: datetime,
    item_id: str | None = None,
    reason: str | None = None,
) -> None:
    session.add(
        IlsAccountEvent(
            occurred_at=at,
            action=action,
            outcome=outcome,
            barcode_index=actor.barcode_index,
            owner_index=actor.owner_index,
            item_id=item_id,
            reason=reason,
        )
    )


def _failures(
    session: Session, column: InstrumentedAttribute[str], value: str, since: datetime
) -> tuple[int, datetime | None]:
    """Failed verifications after ``since`` and after the last success, and the latest one."""
    last_ok = session.scalar(
        select(func.max(IlsAccountEvent.occurred_at)).where(
            column == value,
            IlsAccountEvent.action == AccountAction.VERIFY,
            IlsAccountEvent.outcome == AccountOutcome.OK,
        )
    )
    start = max(since, last_ok) if last_ok is not None else since
    count, latest = session.execute(
        select(func.count(), func.max(IlsAccountEvent.occurred_at)).where(
            column == value,
            IlsAccountEvent.action == AccountAction.VERIFY,
            IlsAccountEvent.outcome.in_(_FAILED),
            IlsAccountEvent.occurred_at > start,
        )
    ).one()
    return count, latest


def locked_until(
    session: Session, actor: Actor, *, now: datetime, max_failures: int, window: timedelta
) -> datetime | None:
    """When verification may be tried again, if this card or this chat has failed too often.

    Counting per card stops PIN guessing from many chats; counting per chat stops
    one chat from trying many cards.
    """
    until: datetime | None = None
    for column, value in (
        (IlsAccountEvent.barcode_index, actor.barcode_index),
        (IlsAccountEvent.owner_index, actor.owner_index),
    ):
        count, latest = _failures(session, column, value, now - window)
        if count >= max_failures and latest is not None:
            candidate = latest + window
            until = candidate if until is None else max(until, candidate)
    return until


def purge_events(session: Session, *, older_than: datetime) -> int:
    """Delete events past their retention; returns how many went."""
    # A bulk DELETE returns a cursor result, which knows how many rows it touched.
    result = cast(
        "CursorResult[Any]",
        session.execute(delete(IlsAccountEvent).where(IlsAccountEvent.occurred_at < older_than)),
    )
    return result.rowcount
