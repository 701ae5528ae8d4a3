"""The patron side: opening a request, looking one up, cancelling it.

What the chat form (and the OpenURL page) collects is a :class:`RequestDraft`;
:func:`open_request` turns it into a ticket, or answers with the open ticket it
duplicates, or with "your own library has it" when it does. Look-ups only ever
return the patron's own tickets: a ticket number that belongs to someone else
gets exactly the answer of one that does not exist.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb.catalog.models import Holding, Library
from kb.db import savepoint
from kb.delivery import routing, transitions
from kb.delivery.citations import Citation
from kb.delivery.matching import candidate_records
from kb.delivery.models import DeliveryRequest
from kb.delivery.states import (
    TERMINAL,
    DeliveryMethod,
    Event,
    Genre,
    ReasonUnfilled,
    Role,
    RotaState,
    ServiceType,
    Status,
)
from kb.delivery.texts import Problem, field_name
from kb.delivery.tickets import next_ticket, normalize_ticket
from kb.patrons.models import Patron

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
PATRON = "patron"


@dataclass
class RequestDraft:
    """Everything a request needs; the chat form fills it step by step."""

    citation: Citation
    service_type: ServiceType | None = None
    delivery_method: DeliveryMethod | None = None
    pickup_library: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    need_before: date | None = None
    max_cost: Decimal | None = None
    notes: str | None = None
    language: str = "zh"
    source: str = "chat"

    def missing(self) -> list[str]:
        """Field names still to ask for, citation first (see texts.FIELD_NAMES)."""
        missing = self.citation.missing()
        if self.service_type is None:
            missing.append("service_type")
        if self.delivery_method is None:
            missing.append("delivery_method")
        elif self.delivery_method is DeliveryMethod.EMAIL and not self.contact_email:
            missing.append("contact_email")
        elif self.delivery_method is DeliveryMethod.PICKUP and not self.pickup_library:
            missing.append("pickup_library")
        return missing

    def problems(self, session: Session, today: date) -> list[Problem]:
        problems = []
        if self.contact_email and not _EMAIL.match(self.contact_email.strip()):
            problems.append(Problem("email_invalid", "contact_email", self.contact_email))
        if self.need_before and self.need_before < today:
            problems.append(
                Problem("need_before_past", "need_before", self.need_before.isoformat())
            )
        if self.max_cost is not None and self.max_cost < 0:
            problems.append(Problem("max_cost_negative", "max_cost", str(self.max_cost)))
        if self.service_type is ServiceType.LOAN and self.delivery_method is DeliveryMethod.EMAIL:
            problems.append(Problem("loan_needs_pickup", "delivery_method"))
        if self.pickup_library and session.get(Library, self.pickup_library) is None:
            problems.append(
                Problem("pickup_library_unknown", "pickup_library", self.pickup_library)
            )
        return problems


class RequestIncomplete(ValueError):
    """A draft that cannot be opened yet: what is missing and what is wrong."""

    def __init__(self, missing: list[str], problems: list[Problem]) -> None:
        self.missing, self.problems = missing, problems
        parts = [f"missing: {', '.join(field_name(m, 'en') for m in missing)}"] if missing else []
        parts += [p.text("en") for p in problems]
        super().__init__("; ".join(parts))


@dataclass(frozen=True)
class Opened:
    request: DeliveryRequest
    routed: bool  # sent to a lender (False: waits for the delivery centre to choose one)


@dataclass(frozen=True)
class Duplicate:
    request: DeliveryRequest  # the patron's open ticket for the same item


@dataclass(frozen=True)
class HeldLocally:
    library_code: str
    holdings: list[Holding] = field(default_factory=list)

    @property
    def available_now(self) -> bool:
        return any(h.status.value == "available" for h in self.holdings)


OpenOutcome = Opened | Duplicate | HeldLocally


def dedupe_keys(citation: Citation) -> list[tuple[str, str]]:
    """Identifiers that make two open requests of one patron the same request.

    An ISBN names a whole book, so it does not make two chapter requests the same.
    """
    keys = [("doi", citation.doi), ("pmid", citation.pmid)]
    if citation.genre is not Genre.CHAPTER:
        keys.append(("isbn", citation.isbn))
    return [(scheme, value) for scheme, value in keys if value]


def find_open_duplicate(
    session: Session, patron_id: int, citation: Citation
) -> DeliveryRequest | None:
    keys = dedupe_keys(citation)
    if not keys:
        return None
    same_item = or_(*(getattr(DeliveryRequest, scheme) == value for scheme, value in keys))
    return session.scalar(
        select(DeliveryRequest)
        .where(
            DeliveryRequest.patron_id == patron_id,
            DeliveryRequest.status.not_in(TERMINAL),
            same_item,
        )
        .order_by(DeliveryRequest.id)
        .limit(1)
    )


def _subject_class(clc: str | None) -> str | None:
    """The CLC top-level class: its first letter (T's two-letter subclasses count as T)."""
    return clc.strip()[:1].upper() if clc and clc.strip()[:1].isalpha() else None


def open_request(
    session: Session,
    patron: Patron,
    draft: RequestDraft,
    *,
    now: datetime,
    actor: str = PATRON,
    role: Role = Role.PATRON,
    route_now: bool = True,
    even_if_held_locally: bool = False,
    ranker: routing.Ranker = routing.measured_ranking,
) -> OpenOutcome:
    """Open a ticket for ``draft`` and send it to the first lender (the caller commits)."""
    if not draft.contact_email and patron.email:
        draft = replace(draft, contact_email=patron.email)  # the address the patron gave before
    missing, problems = draft.missing(), draft.problems(session, now.date())
    if missing or problems:
        raise RequestIncomplete(missing, problems)
    assert draft.service_type is not None and draft.delivery_method is not None
    citation = draft.citation
    duplicate = find_open_duplicate(session, patron.id, citation)
    if duplicate is not None:
        return Duplicate(duplicate)
    records = candidate_records(session, citation)
    home = patron.home_library
    local = routing.local_holdings(records, home, draft.service_type)
    if local and home and not even_if_held_locally:
        return HeldLocally(home, local)
    keys = dedupe_keys(citation)
    request = DeliveryRequest(
        ticket=next_ticket(session, now.year),
        patron_id=patron.id,
        status=Status.SUBMITTED,
        service_type=draft.service_type,
        delivery_method=draft.delivery_method,
        pickup_library=draft.pickup_library,
        need_before=draft.need_before,
        max_cost=draft.max_cost,
        contact_name=draft.contact_name or patron.name,
        contact_email=draft.contact_email,
        contact_phone=draft.contact_phone or patron.phone,
        notes=draft.notes,
        language=draft.language,
        source=draft.source,
        requesting_library=home,
        record_id=records[0].id if records else None,
        subject_class=next((_subject_class(r.clc) for r in records if _subject_class(r.clc)), None),
        open_dedupe_key=f"{patron.id}:{keys[0][0]}:{keys[0][1]}" if keys else None,
        created_at=now,
    )
    request.set_citation(citation)
    try:
        with savepoint(session):
            session.add(request)
            session.flush()
    except IntegrityError:
        # The same patron opened the same item a moment ago (a double submit).
        existing = find_open_duplicate(session, patron.id, citation)
        if existing is None:
            raise
        return Duplicate(existing)
    transitions.record_submission(request, actor=actor, role=role, now=now, note=draft.source)
    routed = False
    if route_now:
        routed = routing.route(session, request, now=now, records=records, ranker=ranker)
    session.flush()
    return Opened(request, routed)


def find_own_request(session: Session, patron_id: int, ticket_text: str) -> DeliveryRequest | None:
    """The patron's ticket by number; None for a number that is not theirs or does not exist."""
    ticket = normalize_ticket(ticket_text)
    if ticket is None:
        return None
    return session.scalar(
        select(DeliveryRequest).where(
            DeliveryRequest.ticket == ticket, DeliveryRequest.patron_id == patron_id
        )
    )


def own_requests(
    session: Session, patron_id: int, *, include_closed: bool = False, limit: int = 20
) -> list[DeliveryRequest]:
    query = select(DeliveryRequest).where(DeliveryRequest.patron_id == patron_id)
    if not include_closed:
        query = query.where(DeliveryRequest.status.not_in(TERMINAL))
    return list(session.scalars(query.order_by(DeliveryRequest.id.desc()).limit(limit)))


class CancelOutcome(enum.StrEnum):
    CANCELLED = "cancelled"
    NOT_FOUND = "not_found"  # also for someone else's ticket
    NOT_CANCELLABLE = "not_cancellable"  # theirs, but already supplied or closed


@dataclass(frozen=True)
class CancelResult:
    outcome: CancelOutcome
    request: DeliveryRequest | None = None


def cancel(
    request: DeliveryRequest, *, actor: str, role: Role, now: datetime, note: str | None = None
) -> None:
    """Cancel (patron or delivery centre); the lender it was with stops working on it."""
    transitions.rule_for(request.status, Event.CANCEL, role, request.ticket)
    lender = request.current_lender
    routing.close_current(request, RotaState.WITHDRAWN, now)
    transitions.apply(
        request, Event.CANCEL, actor=actor, role=role, now=now, lender=lender, note=note
    )


def cancel_own_request(
    session: Session, patron_id: int, ticket_text: str, *, now: datetime, note: str | None = None
) -> CancelResult:
    request = find_own_request(session, patron_id, ticket_text)
    if request is None:
        return CancelResult(CancelOutcome.NOT_FOUND)
    if (request.status, Event.CANCEL) not in transitions.TABLE:
        return CancelResult(CancelOutcome.NOT_CANCELLABLE, request)
    cancel(request, actor=PATRON, role=Role.PATRON, now=now, note=note)
    session.flush()
    return CancelResult(CancelOutcome.CANCELLED, request)


def answer_conditions(
    session: Session, patron_id: int, ticket_text: str, *, accept: bool, now: datetime
) -> DeliveryRequest | None:
    """The patron accepts or declines a lender's conditions (declining asks the next lender)."""
    request = find_own_request(session, patron_id, ticket_text)
    if request is None:
        return None
    if accept:
        transitions.apply(request, Event.ACCEPT_CONDITIONS, actor=PATRON, role=Role.PATRON, now=now)
        routing.reset_deadline(session, request, now)
    else:
        routing.move_on(
            session,
            request,
            Event.REJECT_CONDITIONS,
            actor=PATRON,
            role=Role.PATRON,
            now=now,
            reason=ReasonUnfilled.CONDITIONS_REJECTED,
        )
    session.flush()
    return request
