"""The librarian side: what lending libraries and the delivery centre do with requests.

Each action is one function taking the ticket, who acts (:class:`Actor`) and
when, so an HTTP endpoint or a console button is a one-line call. Staff of a
lending library (role ``supplier``) act only on requests currently with their
library; delivery-centre staff (role ``librarian``) may act on any. Every action
goes through :mod:`kb.delivery.transitions`, so what the table does not allow
is refused with the current status named, and the audit trail records it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.catalog.models import Library
from kb.delivery import files, routing, service, transitions
from kb.delivery.models import DeliveryRequest, SuppliedFile
from kb.delivery.states import SUPPLIED, Event, ReasonUnfilled, Role, RotaState, Status
from kb.delivery.tickets import normalize_ticket
from kb.settings import get_settings

# The lender is working on these; a lender's queue lists them.
_LENDER_QUEUE = (Status.SENT, Status.EXPECT_TO_SUPPLY, Status.WILL_SUPPLY, Status.CONDITIONAL)


@dataclass(frozen=True)
class Actor:
    """Who does something: a staff user acting for a library, or the centre."""

    name: str
    role: Role
    library_code: str | None = None  # the lending library a supplier works for

    @classmethod
    def lender(cls, name: str, library_code: str) -> Actor:
        return cls(name, Role.SUPPLIER, library_code)

    @classmethod
    def centre(cls, name: str) -> Actor:
        return cls(name, Role.LIBRARIAN)

    @property
    def label(self) -> str:
        return f"{self.name}@{self.library_code}" if self.library_code else self.name


class RequestNotFound(LookupError):
    def __init__(self, ticket: str) -> None:
        super().__init__(f"no delivery request {ticket!r}")


class NotYourRequest(PermissionError):
    """A lending library acting on a request that is not (or no longer) with it."""

    def __init__(self, request: DeliveryRequest, actor: Actor) -> None:
        where = f"with {request.current_lender}" if request.current_lender else "with no lender"
        super().__init__(f"request {request.ticket} is {where}, not with {actor.library_code}")


class UnknownLibrary(LookupError):
    def __init__(self, codes: Sequence[str]) -> None:
        super().__init__(f"no member library with the code {', '.join(codes)}")


class SupplyRefused(ValueError):
    """A supply action without a file or link, or with something wrong in them."""


def get_request(session: Session, ticket_text: str) -> DeliveryRequest:
    """A request by ticket, locked for update where the database supports it."""
    ticket = normalize_ticket(ticket_text) or ticket_text
    request = session.scalar(
        select(DeliveryRequest).where(DeliveryRequest.ticket == ticket).with_for_update()
    )
    if request is None:
        raise RequestNotFound(ticket_text)
    return request


def _for(session: Session, ticket: str, actor: Actor) -> DeliveryRequest:
    request = get_request(session, ticket)
    if actor.role is Role.SUPPLIER and request.current_lender != actor.library_code:
        raise NotYourRequest(request, actor)
    return request


def _answer(
    session: Session, ticket: str, actor: Actor, event: Event, now: datetime, note: str | None
) -> DeliveryRequest:
    request = _for(session, ticket, actor)
    transitions.apply(
        request,
        event,
        actor=actor.label,
        role=actor.role,
        now=now,
        lender=request.current_lender,
        note=note,
    )
    routing.reset_deadline(session, request, now)
    session.flush()
    return request


def acknowledge(
    session: Session, ticket: str, actor: Actor, *, now: datetime, note: str | None = None
) -> DeliveryRequest:
    """ExpectToSupply: the lender is looking for it (its response time starts again)."""
    return _answer(session, ticket, actor, Event.EXPECT_TO_SUPPLY, now, note)


def accept(
    session: Session, ticket: str, actor: Actor, *, now: datetime, note: str | None = None
) -> DeliveryRequest:
    """WillSupply: the lender will supply it (within ``delivery_supply_days``)."""
    return _answer(session, ticket, actor, Event.WILL_SUPPLY, now, note)


def offer_conditions(
    session: Session, ticket: str, actor: Actor, *, now: datetime, note: str
) -> DeliveryRequest:
    """A conditional answer (a cost above the patron's maximum, in-library use only, ...)."""
    if not note.strip():
        raise SupplyRefused("say what the conditions are")
    return _answer(session, ticket, actor, Event.CONDITIONAL, now, note)


def _move_on(
    session: Session,
    ticket: str,
    actor: Actor,
    event: Event,
    now: datetime,
    reason: ReasonUnfilled | None,
    note: str | None,
) -> DeliveryRequest:
    request = _for(session, ticket, actor)
    routing.move_on(
        session,
        request,
        event,
        actor=actor.label,
        role=actor.role,
        now=now,
        reason=reason,
        note=note,
    )
    session.flush()
    return request


def reject(
    session: Session,
    ticket: str,
    actor: Actor,
    *,
    reason: ReasonUnfilled,
    now: datetime,
    note: str | None = None,
) -> DeliveryRequest:
    """Unfilled at this lender, with an ISO 18626 reason: the next lender is asked."""
    return _move_on(session, ticket, actor, Event.UNFILLED, now, ReasonUnfilled(reason), note)


def forward(
    session: Session, ticket: str, actor: Actor, *, now: datetime, note: str | None = None
) -> DeliveryRequest:
    """The lender passes the request on to the next lender of the rota."""
    return _move_on(session, ticket, actor, Event.FORWARD, now, None, note)


@dataclass(frozen=True)
class Supplied:
    request: DeliveryRequest
    file: SuppliedFile | None = None
    download_token: str | None = None


def supply_copy(
    session: Session,
    ticket: str,
    actor: Actor,
    *,
    now: datetime,
    filename: str | None = None,
    content: bytes | BinaryIO | None = None,
    content_type: str | None = None,
    link: str | None = None,
    note: str | None = None,
) -> Supplied:
    """CopyCompleted: an uploaded file (stored, expiring link) or a link to the copy."""
    if (content is None) == (link is None):
        raise SupplyRefused("give either a file or a link, not both or neither")
    if link is not None and not link.strip().lower().startswith(("https://", "http://")):
        raise SupplyRefused(f"the link {link!r} is not an http(s) address")
    request = _for(session, ticket, actor)
    transitions.rule_for(request.status, Event.SUPPLY_COPY, actor.role, request.ticket)
    stored = None
    if content is not None:
        stored = files.store_file(
            session,
            request,
            filename=filename or "document",
            content=content,
            content_type=content_type,
            uploaded_by=actor.label,
            now=now,
        )
    else:
        request.supplied_link = link.strip() if link else None
    _fill(session, request, actor, Event.SUPPLY_COPY, now, note)
    return Supplied(request, stored, files.download_token(stored) if stored else None)


def ship_loan(
    session: Session, ticket: str, actor: Actor, *, now: datetime, note: str | None = None
) -> DeliveryRequest:
    """Loaned: the item is on its way to the pickup library."""
    request = _for(session, ticket, actor)
    transitions.rule_for(request.status, Event.SHIP_LOAN, actor.role, request.ticket)
    _fill(session, request, actor, Event.SHIP_LOAN, now, note)
    return request


def _fill(
    session: Session,
    request: DeliveryRequest,
    actor: Actor,
    event: Event,
    now: datetime,
    note: str | None,
) -> None:
    lender = request.current_lender
    routing.close_current(request, RotaState.FILLED, now)
    transitions.apply(
        request, event, actor=actor.label, role=actor.role, now=now, lender=lender, note=note
    )
    routing.reset_deadline(session, request, now)
    session.flush()


def complete(
    session: Session, ticket: str, actor: Actor, *, now: datetime, note: str | None = None
) -> DeliveryRequest:
    """Close a supplied request (the loan came back, or the patron has the copy)."""
    request = get_request(session, ticket)
    transitions.apply(
        request, Event.COMPLETE, actor=actor.label, role=actor.role, now=now, note=note
    )
    session.flush()
    return request


def cancel(
    session: Session, ticket: str, actor: Actor, *, now: datetime, note: str | None = None
) -> DeliveryRequest:
    """The delivery centre cancels (on the patron's behalf, or a request it cannot serve)."""
    request = get_request(session, ticket)
    service.cancel(request, actor=actor.label, role=actor.role, now=now, note=note)
    session.flush()
    return request


def add_lenders_and_route(
    session: Session, ticket: str, actor: Actor, codes: Sequence[str], *, now: datetime
) -> DeliveryRequest:
    """The centre picks lenders for an unrouted request (e.g. not in the union catalog)."""
    request = get_request(session, ticket)
    known = set(session.scalars(select(Library.code).where(Library.code.in_(codes))))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise UnknownLibrary(unknown)
    routing.add_lenders(request, codes)
    routing.route(session, request, now=now, actor=actor.label, role=actor.role)
    session.flush()
    return request


def close_delivered_copies(session: Session, now: datetime) -> list[DeliveryRequest]:
    """Close copies delivered longer ago than the download window (the scheduler calls this)."""
    cutoff = now - timedelta(days=get_settings().delivery_download_days)
    delivered = list(
        session.scalars(
            select(DeliveryRequest)
            .where(
                DeliveryRequest.status == Status.COPY_COMPLETED,
                DeliveryRequest.supplied_at <= cutoff,
            )
            .with_for_update(skip_locked=True)
        )
    )
    for request in delivered:
        transitions.apply(request, Event.COMPLETE, actor=routing.SYSTEM, role=Role.SYSTEM, now=now)
    return delivered


def lender_queue(session: Session, library_code: str) -> list[DeliveryRequest]:
    """Requests with this library now, the most urgent first."""
    return list(
        session.scalars(
            select(DeliveryRequest)
            .where(
                DeliveryRequest.current_lender == library_code,
                DeliveryRequest.status.in_(_LENDER_QUEUE),
            )
            .order_by(DeliveryRequest.answer_due_at.is_(None), DeliveryRequest.answer_due_at)
        )
    )


def unrouted_queue(session: Session) -> list[DeliveryRequest]:
    """Requests no union-catalog library could take: the centre has to choose lenders."""
    return list(
        session.scalars(
            select(DeliveryRequest)
            .where(DeliveryRequest.status == Status.SUBMITTED)
            .order_by(DeliveryRequest.created_at)
        )
    )


def awaiting_completion(session: Session, library_code: str | None = None) -> list[DeliveryRequest]:
    """Supplied requests still open (loans out, copies not yet confirmed)."""
    query = select(DeliveryRequest).where(DeliveryRequest.status.in_(SUPPLIED))
    if library_code:
        query = query.where(DeliveryRequest.current_lender == library_code)
    return list(session.scalars(query.order_by(DeliveryRequest.supplied_at)))
