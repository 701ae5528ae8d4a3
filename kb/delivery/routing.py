"""Routing: the rota of lenders for a request, and moving along it.

The rota is built from the union catalog: the libraries that hold the item and
lend (``Library.lends``), minus the patron's own library. Policy on what a
holding can serve:

- a loan needs a loanable holding (reference-only copies do not travel);
- a copy can be made from any holding, reference-only included (scanning an
  article or chapter on site does not take the volume out);
- copy-or-loan is served by anything a copy can be made from;
- missing holdings serve nothing.

A library that holds the item but cannot serve it stays in the rota as
``skipped`` with the reason (NonCirculating, NotOnShelf, NotAvailableForILL),
so an unfilled request can say why. The others are ranked: libraries with a
usable copy on the shelf now come before those whose copies are out; within
that, by the expected days it takes to get the item per success,
``load * (p * t_fill + (1 - p) * t_fail) / p`` -- the order that minimises the
expected time of a sequential search (each lender is a trial with success
probability ``p`` and cost ``t``; asking in increasing cost/probability order is
optimal). ``p`` and the days are measured from the lender's answers in the
last ``delivery_stats_window_days``, smoothed towards a prior (BALIS: 80% filled
in 2 days) so a new lender starts fair and one lucky answer does not make a
favourite; ``load`` grows with the requests the lender has open now, so the
fastest library does not collect everything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.catalog.models import Holding, HoldingStatus, Library, Record
from kb.delivery import transitions
from kb.delivery.matching import candidate_records
from kb.delivery.models import DeliveryRequest, RotaEntry
from kb.delivery.states import (
    WITH_LENDER,
    Event,
    ReasonUnfilled,
    Role,
    RotaState,
    ServiceType,
    Status,
)
from kb.settings import get_settings

PRIOR_FILL = 0.80  # BALIS local requests: 80%+ filled ...
PRIOR_FILL_DAYS = 2.0  # ... in 2 days on average
PRIOR_WEIGHT = 5.0  # a lender with no history counts as 5 answers at the prior
LOAD_SCALE = 20.0  # open requests at which a lender's expected days count double

SYSTEM = "system"
MEASURED = (RotaState.FILLED, RotaState.UNFILLED, RotaState.FORWARDED, RotaState.NO_ANSWER)
_MOVE_ON_STATE = {
    Event.UNFILLED: RotaState.UNFILLED,
    Event.FORWARD: RotaState.FORWARDED,
    Event.NO_ANSWER: RotaState.NO_ANSWER,
    Event.REJECT_CONDITIONS: RotaState.DECLINED,
}
# Where a request's lender is still working on it (its load).
_AT_LENDER = (*WITH_LENDER, Status.CONDITIONAL)


@dataclass(frozen=True)
class Candidate:
    """A holding library, in catalog order, and whether it can serve this request."""

    library: Library
    available: bool = False  # a usable copy is on the shelf now
    skip_reason: ReasonUnfilled | None = None


@dataclass(frozen=True)
class Ranked:
    library_code: str
    facts: dict[str, Any] = field(default_factory=dict)  # kept on the rota entry


Ranker = Callable[[Session, Sequence[Candidate], datetime], list[Ranked]]


def _usable(holding: Holding, service: ServiceType) -> bool:
    if holding.status is HoldingStatus.MISSING:
        return False
    return holding.loanable if service is ServiceType.LOAN else True


def local_holdings(
    records: Sequence[Record], library_code: str | None, service: ServiceType
) -> list[Holding]:
    """Holdings of the patron's own library that serve this request: "borrow it here"."""
    if not library_code:
        return []
    # "Holds and lends": a copy request is served by any copy the patron can use there,
    # a loan only by one that circulates.
    return [
        h
        for r in records
        for h in r.holdings
        if h.library_code == library_code
        and _usable(h, service)
        and (h.loanable or service is ServiceType.COPY)
    ]


def lender_candidates(
    session: Session, records: Sequence[Record], service: ServiceType, exclude: str | None
) -> list[Candidate]:
    by_library: dict[str, list[Holding]] = {}
    for holding in sorted((h for r in records for h in r.holdings), key=lambda h: h.id):
        if holding.library_code != exclude:
            by_library.setdefault(holding.library_code, []).append(holding)
    libraries = {
        lib.code: lib
        for lib in session.scalars(select(Library).where(Library.code.in_(by_library)))
    }
    out = []
    for code, holdings in by_library.items():
        library = libraries[code]
        usable = [h for h in holdings if _usable(h, service)]
        if not library.lends:
            reason: ReasonUnfilled | None = ReasonUnfilled.NOT_AVAILABLE_FOR_ILL
        elif usable:
            reason = None
        elif all(h.status is HoldingStatus.MISSING for h in holdings):
            reason = ReasonUnfilled.NOT_ON_SHELF
        else:
            reason = ReasonUnfilled.NON_CIRCULATING
        available = any(h.status is HoldingStatus.AVAILABLE for h in usable)
        out.append(Candidate(library, available=available and reason is None, skip_reason=reason))
    return out


@dataclass(frozen=True)
class LenderRecord:
    """A lender's measured answers in the stats window."""

    answered: int = 0
    filled: int = 0
    filled_days: float = 0.0
    failed_days: float = 0.0

    def fill_rate(self) -> float:
        return (self.filled + PRIOR_WEIGHT * PRIOR_FILL) / (self.answered + PRIOR_WEIGHT)

    def fill_days(self) -> float:
        return (self.filled_days + PRIOR_WEIGHT * PRIOR_FILL_DAYS) / (self.filled + PRIOR_WEIGHT)

    def fail_days(self, response_days: int) -> float:
        failed = self.answered - self.filled
        return (self.failed_days + PRIOR_WEIGHT * response_days) / (failed + PRIOR_WEIGHT)


def lender_records(
    session: Session, codes: Sequence[str], now: datetime
) -> dict[str, LenderRecord]:
    since = now - timedelta(days=get_settings().delivery_stats_window_days)
    rows = session.execute(
        select(
            RotaEntry.library_code,
            RotaEntry.state,
            func.count(),
            func.coalesce(func.sum(RotaEntry.answer_days), 0.0),
        )
        .where(
            RotaEntry.library_code.in_(codes),
            RotaEntry.state.in_(MEASURED),
            RotaEntry.answered_at >= since,
        )
        .group_by(RotaEntry.library_code, RotaEntry.state)
    )
    totals: dict[str, list[float]] = {}
    for code, state, count, days in rows:
        t = totals.setdefault(code, [0, 0, 0.0, 0.0])
        t[0] += count
        if state is RotaState.FILLED:
            t[1] += count
            t[2] += float(days or 0.0)
        else:
            t[3] += float(days or 0.0)
    return {code: LenderRecord(int(a), int(f), fd, xd) for code, (a, f, fd, xd) in totals.items()}


def open_load(session: Session, codes: Sequence[str]) -> dict[str, int]:
    rows = session.execute(
        select(DeliveryRequest.current_lender, func.count())
        .where(DeliveryRequest.current_lender.in_(codes), DeliveryRequest.status.in_(_AT_LENDER))
        .group_by(DeliveryRequest.current_lender)
    )
    return {code: int(count) for code, count in rows if code is not None}


def measured_ranking(
    session: Session, candidates: Sequence[Candidate], now: datetime
) -> list[Ranked]:
    """Available first, then by expected days per success (see the module docstring)."""
    codes = [c.library.code for c in candidates]
    records, load = lender_records(session, codes, now), open_load(session, codes)
    scored = []
    for cand in candidates:
        code = cand.library.code
        rec = records.get(code, LenderRecord())
        p, t_fill, t_fail = (
            rec.fill_rate(),
            rec.fill_days(),
            rec.fail_days(cand.library.response_days),
        )
        load_factor = 1 + load.get(code, 0) / LOAD_SCALE
        expected = load_factor * (p * t_fill + (1 - p) * t_fail)
        facts = {
            "available": cand.available,
            "answered": rec.answered,
            "fill_rate": round(p, 3),
            "fill_days": round(t_fill, 2),
            "fail_days": round(t_fail, 2),
            "open_requests": load.get(code, 0),
            "score": round(expected / p, 3),
        }
        scored.append((not cand.available, expected / p, code, Ranked(code, facts)))
    return [ranked for *_, ranked in sorted(scored, key=lambda s: s[:3])]


def build_rota(
    session: Session,
    request: DeliveryRequest,
    records: Sequence[Record],
    now: datetime,
    ranker: Ranker = measured_ranking,
) -> list[RotaEntry]:
    candidates = lender_candidates(
        session, records, request.service_type, request.requesting_library
    )
    ranked = ranker(session, [c for c in candidates if c.skip_reason is None], now)
    skipped = [c for c in candidates if c.skip_reason is not None]
    start = len(request.rota)
    for offset, item in enumerate(ranked):
        request.rota.append(
            RotaEntry(
                position=start + offset,
                library_code=item.library_code,
                state=RotaState.PENDING,
                ranking=item.facts,
            )
        )
    for offset, cand in enumerate(skipped, start=start + len(ranked)):
        request.rota.append(
            RotaEntry(
                position=offset,
                library_code=cand.library.code,
                state=RotaState.SKIPPED,
                reason=cand.skip_reason,
            )
        )
    return request.rota


def add_lenders(request: DeliveryRequest, codes: Sequence[str]) -> list[RotaEntry]:
    """Append lenders a librarian chose (e.g. for an item outside the union catalog)."""
    asked = {e.library_code for e in request.rota if e.state is not RotaState.SKIPPED}
    position = max((e.position for e in request.rota), default=-1) + 1
    added = []
    for code in codes:
        if code not in asked:
            entry = RotaEntry(
                position=position,
                library_code=code,
                state=RotaState.PENDING,
                ranking={"added_by_staff": True},
            )
            request.rota.append(entry)
            added.append(entry)
            asked.add(code)
            position += 1
    return added


def current_entry(request: DeliveryRequest) -> RotaEntry | None:
    return next((e for e in request.rota if e.state is RotaState.SENT), None)


def _next_pending(request: DeliveryRequest) -> RotaEntry | None:
    return next((e for e in request.rota if e.state is RotaState.PENDING), None)


def _send(session: Session, request: DeliveryRequest, entry: RotaEntry, now: datetime) -> None:
    entry.state, entry.sent_at = RotaState.SENT, now
    request.current_lender = entry.library_code
    reset_deadline(session, request, now)


def reset_deadline(session: Session, request: DeliveryRequest, now: datetime) -> None:
    """When the lender's next answer is due: its response time to say yes or no, the supply
    time once it said yes, none while the patron decides on conditions."""
    if request.status in (Status.SENT, Status.EXPECT_TO_SUPPLY):
        library = session.get(Library, request.current_lender)
        days = library.response_days if library is not None else 2
        request.answer_due_at = now + timedelta(days=days)
    elif request.status is Status.WILL_SUPPLY:
        request.answer_due_at = now + timedelta(days=get_settings().delivery_supply_days)
    else:
        request.answer_due_at = None


def close_current(
    request: DeliveryRequest, state: RotaState, now: datetime, reason: ReasonUnfilled | None = None
) -> RotaEntry | None:
    """Record the current lender's outcome on its rota entry (feeds its measured record)."""
    entry = current_entry(request)
    if entry is not None:
        entry.state, entry.answered_at, entry.reason = state, now, reason
        if entry.sent_at is not None:
            entry.answer_days = (now - entry.sent_at).total_seconds() / 86400
    return entry


def route(
    session: Session,
    request: DeliveryRequest,
    *,
    now: datetime,
    actor: str = SYSTEM,
    role: Role = Role.SYSTEM,
    records: Sequence[Record] | None = None,
    ranker: Ranker = measured_ranking,
) -> bool:
    """Send a submitted request to the first lender of its rota (building it if needed).

    With no lender to ask, the system leaves it ``submitted`` for the delivery
    centre (its librarians can add lenders outside the union catalog); a
    librarian routing it with no lender closes it unfilled.
    """
    transitions.rule_for(request.status, Event.ROUTE, role, request.ticket)
    if not request.rota:
        if records is None:
            records = candidate_records(session, request.citation)
        build_rota(session, request, records, now, ranker)
    entry = _next_pending(request)
    if entry is None and role is Role.SYSTEM:
        return False
    transitions.apply(
        request,
        Event.ROUTE,
        actor=actor,
        role=role,
        now=now,
        rota_exhausted=entry is None,
        routed_to=entry.library_code if entry else None,
        reason=None if entry or request.rota else ReasonUnfilled.NOT_HELD,
    )
    if entry is not None:
        _send(session, request, entry, now)
    return entry is not None


def move_on(
    session: Session,
    request: DeliveryRequest,
    event: Event,
    *,
    actor: str,
    role: Role,
    now: datetime,
    reason: ReasonUnfilled | None = None,
    note: str | None = None,
) -> RotaEntry | None:
    """The current lender could not (or did not) supply: ask the next one, or end unfilled.

    Returns the rota entry now asked, or None when the rota is used up.
    """
    transitions.rule_for(request.status, event, role, request.ticket)
    lender = request.current_lender
    close_current(request, _MOVE_ON_STATE[event], now, reason)
    entry = _next_pending(request)
    transitions.apply(
        request,
        event,
        actor=actor,
        role=role,
        now=now,
        rota_exhausted=entry is None,
        lender=lender,
        routed_to=entry.library_code if entry else None,
        reason=reason,
        note=note,
    )
    if entry is not None:
        _send(session, request, entry, now)
    return entry


def unfilled_reasons(request: DeliveryRequest) -> list[tuple[str, ReasonUnfilled]]:
    """Each lender that could not supply, with its reason, in rota order."""
    return [(e.library_code, e.reason) for e in request.rota if e.reason is not None]


def advance_overdue(session: Session, now: datetime, limit: int = 500) -> list[DeliveryRequest]:
    """Move requests whose lender let its response time pass on to the next lender.

    Called by the scheduler; the caller commits. On PostgreSQL the rows are locked
    with SKIP LOCKED, so two schedulers never move the same request twice.
    """
    query = (
        select(DeliveryRequest)
        .where(DeliveryRequest.status.in_(WITH_LENDER), DeliveryRequest.answer_due_at <= now)
        .order_by(DeliveryRequest.answer_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    moved = list(session.scalars(query))
    for request in moved:
        move_on(
            session,
            request,
            Event.NO_ANSWER,
            actor=SYSTEM,
            role=Role.SYSTEM,
            now=now,
            reason=ReasonUnfilled.NO_ANSWER,
        )
    return moved
