"""Linking one patron's channels with a short one-time code.

A patron asks for a code in one channel (web chat, WeChat, Telegram) and types it
in another within ``link_code_minutes``; the second channel's identity, and
everything its patron had, then belong to the first patron.

Guessing is limited three ways: a chat may type only ``link_failures_per_identity``
wrong codes per window; every wrong code typed anywhere counts against every live
code, which is burned after ``link_code_guess_budget`` of them (web sessions are free
to create, so a per-chat limit alone would not stop a patient guesser); and a
patron may ask for only ``link_codes_per_hour`` codes.
"""

from __future__ import annotations

import enum
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from kb.crypto import keyring
from kb.db import utcnow
from kb.patrons.link_models import LinkCode, LinkFailure
from kb.patrons.merge import merge_patrons
from kb.patrons.models import ChannelIdentity, Patron
from kb.settings import get_settings

log = logging.getLogger("refdesk.linking")

CODE_DIGITS = 6
# "123456", "123 456", "123-456": what a patron may type or paste.
CODE_PATTERN = re.compile(r"^\s*(\d{3})[\s-]?(\d{3})\s*$")


class Outcome(enum.StrEnum):
    LINKED = "linked"  # the identity now belongs to the code's patron
    ALREADY = "already"  # it already did
    INVALID = "invalid"  # no such live code (wrong, expired, used, burned)
    LOCKED = "locked"  # this chat typed too many wrong codes; wait


class TooManyCodes(Exception):
    """The patron asked for too many codes lately."""

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__(f"too many link codes; retry after {retry_after}")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Issued:
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class Redeemed:
    outcome: Outcome
    patron_id: int | None = None
    # The channel the code came from (to tell the patron what was linked).
    other_channel: str | None = None
    language: str | None = None


def normalise_code(text: str) -> str | None:
    """The code in a patron's message, or None if the message is not one."""
    m = CODE_PATTERN.match(text)
    return m.group(1) + m.group(2) if m else None


def _hash(code: str) -> str:
    return keyring().blind_index(code, "link-code")


def _live(now: datetime):  # type: ignore[no-untyped-def]
    budget = get_settings().link_code_guess_budget
    return (
        LinkCode.used_at.is_(None),
        LinkCode.revoked_at.is_(None),
        LinkCode.expires_at > now,
        LinkCode.failed_guesses < budget,
    )


def any_live_code(session: Session) -> bool:
    """Whether some patron is linking right now (a bare 6-digit message is then a code)."""
    return session.scalar(select(LinkCode.id).where(*_live(utcnow())).limit(1)) is not None


def issue_code(session: Session, identity: ChannelIdentity) -> Issued:
    """A new code for the identity's patron; earlier unused codes stop working."""
    settings = get_settings()
    now = utcnow()
    hour_ago = now - timedelta(hours=1)
    recent = session.scalars(
        select(LinkCode.created_at)
        .where(LinkCode.patron_id == identity.patron_id, LinkCode.created_at > hour_ago)
        .order_by(LinkCode.created_at)
    ).all()
    if len(recent) >= settings.link_codes_per_hour:
        raise TooManyCodes(recent[0] + timedelta(hours=1) - now)
    session.execute(
        update(LinkCode)
        .where(LinkCode.patron_id == identity.patron_id, *_live(now))
        .values(revoked_at=now)
    )
    while True:
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        digest = _hash(code)
        # Two live codes must never share a value (it would link the wrong patron).
        clash = session.scalar(
            select(LinkCode.id).where(LinkCode.code_hash == digest, *_live(now)).limit(1)
        )
        if clash is None:
            break
    expires = now + timedelta(minutes=settings.link_code_minutes)
    session.add(
        LinkCode(
            patron_id=identity.patron_id,
            code_hash=digest,
            channel=identity.channel,
            created_at=now,
            expires_at=expires,
        )
    )
    session.flush()
    return Issued(code=code, expires_at=expires)


def redeem_code(session: Session, identity: ChannelIdentity, code: str) -> Redeemed:
    """Link ``identity`` to the patron who asked for ``code``."""
    settings = get_settings()
    now = utcnow()
    window = now - timedelta(minutes=settings.link_code_minutes)
    failures = session.scalar(
        select(func.count())
        .select_from(LinkFailure)
        .where(LinkFailure.identity_id == identity.id, LinkFailure.at > window)
    )
    if (failures or 0) >= settings.link_failures_per_identity:
        return Redeemed(Outcome.LOCKED)
    found = session.scalar(
        select(LinkCode).where(LinkCode.code_hash == _hash(code), *_live(now)).limit(1)
    )
    if found is None:
        session.add(LinkFailure(identity_id=identity.id, at=now))
        # Every wrong guess is a guess at every live code.
        session.execute(
            update(LinkCode).where(*_live(now)).values(failed_guesses=LinkCode.failed_guesses + 1)
        )
        log.info("wrong link code typed on %s (identity %s)", identity.channel, identity.id)
        return Redeemed(Outcome.INVALID)
    # Single use even when two chats type the same code at once: only one UPDATE
    # finds the code still unused.
    claimed = session.execute(  # type: ignore[attr-defined]
        update(LinkCode)
        .where(LinkCode.id == found.id, LinkCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return Redeemed(Outcome.INVALID)
    keep = session.get(Patron, found.patron_id)
    assert keep is not None
    if identity.patron_id == keep.id:
        return Redeemed(Outcome.ALREADY, keep.id, found.channel, keep.language)
    gone = session.get(Patron, identity.patron_id)
    assert gone is not None
    merge_patrons(session, keep=keep, gone=gone)
    log.info("linked %s identity %s to patron %s", identity.channel, identity.id, keep.id)
    return Redeemed(Outcome.LINKED, keep.id, found.channel, keep.language)


def purge_expired(session: Session, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete old codes and failure records (nothing needs them after the window)."""
    cutoff = utcnow() - older_than
    codes = session.execute(delete(LinkCode).where(LinkCode.expires_at < cutoff))
    failures = session.execute(delete(LinkFailure).where(LinkFailure.at < cutoff))
    return int(getattr(codes, "rowcount", 0) or 0) + int(getattr(failures, "rowcount", 0) or 0)
