"""A library's delivery queue cut into tabs, as a lender's staff work it (ILLiad/ReShare style).

Tabs of a lending library (requests it has now, plus what it answered):

- ``new``: sent to it, no answer yet;
- ``in_progress``: it is looking for the item, or offered on conditions;
- ``awaiting_supply``: it said it will supply, the copy or loan is still to go;
- ``overdue``: any of the above whose answer (or supply) is past due;
- ``done``: requests it answered -- supplied, said no, forwarded, or let lapse.

The delivery centre (no library) sees every lender's requests, and unrouted
ones under ``new``; its ``done`` tab lists closed and supplied requests.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from kb.delivery.models import DeliveryRequest, RotaEntry
from kb.delivery.states import SUPPLIED, TERMINAL, RotaState, Status
from kb.delivery.tickets import normalize_ticket

DONE_LIMIT = 200  # the done tab is history: the most recent answers only


class Tab(enum.StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    AWAITING_SUPPLY = "awaiting_supply"
    OVERDUE = "overdue"
    DONE = "done"


class Sort(enum.StrEnum):
    NEED_BEFORE = "need_before"  # the patron's deadline first (none last)
    AGE = "age"  # the oldest request first


_TAB_STATUSES: dict[Tab, tuple[Status, ...]] = {
    Tab.NEW: (Status.SENT,),
    Tab.IN_PROGRESS: (Status.EXPECT_TO_SUPPLY, Status.CONDITIONAL),
    Tab.AWAITING_SUPPLY: (Status.WILL_SUPPLY,),
}
# Statuses in which the lender still owes an answer or the supply.
_OPEN_AT_LENDER = (Status.SENT, Status.EXPECT_TO_SUPPLY, Status.WILL_SUPPLY, Status.CONDITIONAL)
# What a lender's rota entry says once it answered.
_ANSWERED = (
    RotaState.FILLED,
    RotaState.UNFILLED,
    RotaState.FORWARDED,
    RotaState.NO_ANSWER,
    RotaState.DECLINED,
    RotaState.WITHDRAWN,
)


def _base(library_code: str | None) -> Select[Any]:
    query = select(DeliveryRequest)
    if library_code is not None:
        query = query.where(DeliveryRequest.current_lender == library_code)
    return query


def _tab_query(library_code: str | None, tab: Tab, now: datetime) -> Select[Any]:
    if tab is Tab.DONE:
        if library_code is None:
            return select(DeliveryRequest).where(DeliveryRequest.status.in_((*TERMINAL, *SUPPLIED)))
        answered = select(RotaEntry.request_id).where(
            RotaEntry.library_code == library_code, RotaEntry.state.in_(_ANSWERED)
        )
        return select(DeliveryRequest).where(DeliveryRequest.id.in_(answered))
    if tab is Tab.OVERDUE:
        return _base(library_code).where(
            DeliveryRequest.status.in_(_OPEN_AT_LENDER), DeliveryRequest.answer_due_at < now
        )
    statuses = _TAB_STATUSES[tab]
    if tab is Tab.NEW and library_code is None:
        statuses = (Status.SUBMITTED, *statuses)  # the centre routes these by hand
    return _base(library_code).where(DeliveryRequest.status.in_(statuses))


def _matching(query: Select[Any], search: str) -> Select[Any]:
    text = search.strip()
    if not text:
        return query
    ticket = normalize_ticket(text)
    if ticket is not None:
        return query.where(DeliveryRequest.ticket == ticket)
    # A fragment of a ticket ("000123", "2026-0001"): match it anywhere in the number.
    fragment = text.upper().replace("%", "").replace("_", "")
    return query.where(DeliveryRequest.ticket.like(f"%{fragment}%"))


def requests_in(
    session: Session,
    library_code: str | None,
    tab: Tab,
    *,
    now: datetime,
    sort: Sort = Sort.NEED_BEFORE,
    search: str = "",
) -> list[DeliveryRequest]:
    """The requests of one tab, sorted; ``library_code`` None is the centre's view."""
    query = _matching(_tab_query(library_code, tab, now), search)
    if sort is Sort.NEED_BEFORE:
        order: Sequence[object] = (
            DeliveryRequest.need_before.is_(None),
            DeliveryRequest.need_before,
            DeliveryRequest.created_at,
        )
    else:
        order = (DeliveryRequest.created_at, DeliveryRequest.id)
    if tab is Tab.DONE:  # history: the latest first, and only so many
        order = (DeliveryRequest.updated_at.desc(), DeliveryRequest.id.desc())
        query = query.limit(DONE_LIMIT)
    return list(session.scalars(query.order_by(*order)))  # type: ignore[arg-type]


def tab_counts(
    session: Session, library_code: str | None, *, now: datetime, search: str = ""
) -> dict[Tab, int]:
    """How many requests each tab holds (with the same ticket search applied)."""
    counts = {}
    for tab in Tab:
        query = _matching(_tab_query(library_code, tab, now), search)
        counts[tab] = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    return counts
