"""The librarian delivery API: queues, one request in full, and the answers to it.

Staff of a member library see and act on requests currently with their library
(403 otherwise); delivery-centre staff (no library) on every request, and they
alone work the unrouted queue, choose lenders and cancel. Each call is audited
(:mod:`kb.staff.audit`) and each move goes through the delivery domain
(:mod:`kb.delivery.desk`), which pushes news to the patron when it commits.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bot.delivery import views
from bot.delivery.auth import actor_of, current_staff
from bot.delivery.errors import ApiError, audited
from bot.state import AppState
from kb.catalog.models import Library
from kb.db import utcnow
from kb.delivery import desk, files
from kb.delivery.models import DeliveryRequest
from kb.delivery.states import ReasonUnfilled, Role
from kb.staff.models import StaffMember

router = APIRouter(prefix="/api/delivery", tags=["delivery"])
Staff = Annotated[StaffMember, Depends(current_staff)]

# What a lender may answer "no" with (ISO 18626 ReasonUnfilled); NoAnswer and
# ConditionsRejected are recorded by the system and the patron, never chosen.
LENDER_REASONS = (
    ReasonUnfilled.NOT_HELD,
    ReasonUnfilled.NOT_ON_SHELF,
    ReasonUnfilled.NON_CIRCULATING,
    ReasonUnfilled.NOT_AVAILABLE_FOR_ILL,
    ReasonUnfilled.POLICY_PROBLEM,
    ReasonUnfilled.POOR_CONDITION,
)


class NoteBody(BaseModel):
    note: str | None = Field(None, max_length=2000)


class ConditionsBody(BaseModel):
    note: str = Field(..., min_length=1, max_length=2000, description="the conditions offered")


class RejectBody(BaseModel):
    reason: str = Field(..., description="ISO 18626 ReasonUnfilled, e.g. NotHeld or not_held")
    note: str | None = Field(None, max_length=2000)


class RouteBody(BaseModel):
    libraries: list[str] = Field(..., min_length=1, description="lender codes, in asking order")


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.refdesk
    return state


def _role(staff: StaffMember) -> Role:
    return actor_of(staff).role


def _centre_only(staff: StaffMember, what: str) -> None:
    if not staff.at_centre:
        raise ApiError(403, "centre_only", f"only delivery-centre staff can {what}")


def _reason(text: str) -> ReasonUnfilled:
    key = text.replace("_", "").replace("-", "").replace(" ", "").lower()
    for reason in LENDER_REASONS:
        if reason.value.lower() == key:
            return reason
    allowed = ", ".join(r.value for r in LENDER_REASONS)
    raise ApiError(400, "bad_reason", f"unknown reason {text!r}: use one of {allowed}")


def request_for(session: Session, ticket: str, staff: StaffMember) -> DeliveryRequest:
    """The request, if this staff member may see and act on it (404 / 403 otherwise)."""
    request = desk.get_request(session, ticket)
    if not staff.at_centre and request.current_lender != staff.library_code:
        raise desk.NotYourRequest(request, actor_of(staff))
    return request


# --- queues ------------------------------------------------------------------------


@router.get("/queue")
async def lender_queue(
    request: Request,
    staff: Staff,
    library: Annotated[str | None, Query(description="centre staff: which lender")] = None,
) -> dict[str, Any]:
    """Requests with a library now, awaiting its answer or its supply (most urgent first)."""
    code = library or staff.library_code

    def work(session: Session) -> dict[str, Any]:
        if code is None:
            raise ApiError(400, "library_required", "say which library: ?library=<code>")
        if not staff.at_centre and code != staff.library_code:
            raise ApiError(
                403, "not_your_library", f"you work for {staff.library_code}, not for {code}"
            )
        if session.get(Library, code) is None:
            raise ApiError(404, "unknown_library", f"no member library with the code {code!r}")
        queue = desk.lender_queue(session, code)
        return {"library": code, "requests": [views.summary(r, _role(staff)) for r in queue]}

    return await audited(_state(request), staff, "delivery.queue", work, detail=code)


@router.get("/queue/unrouted")
async def unrouted_queue(request: Request, staff: Staff) -> dict[str, Any]:
    """Requests no union-catalog library holds: the centre chooses lenders for them."""

    def work(session: Session) -> dict[str, Any]:
        _centre_only(staff, "see the unrouted queue")
        return {
            "requests": [views.summary(r, Role.LIBRARIAN) for r in desk.unrouted_queue(session)]
        }

    return await audited(_state(request), staff, "delivery.unrouted", work)


# --- one request -----------------------------------------------------------------


@router.get("/requests/{ticket}")
async def get_request(request: Request, ticket: str, staff: Staff) -> dict[str, Any]:
    """The whole request with rota and trail; the patron's contact is decrypted and audited."""

    def work(session: Session) -> dict[str, Any]:
        return views.detail(request_for(session, ticket, staff), _role(staff))

    return await audited(
        _state(request), staff, "delivery.view", work, ticket=ticket, detail="contact_viewed"
    )


async def _act(
    request: Request,
    staff: StaffMember,
    ticket: str,
    action: str,
    move: Any,
    centre_only: str | None = None,
) -> dict[str, Any]:
    """Check access, make the move with ``move(session, ticket, actor, now)``, answer the result.

    Refusals are raised inside the audited transaction, so they are logged too.
    """

    def work(session: Session) -> dict[str, Any]:
        if centre_only:
            _centre_only(staff, centre_only)
        request_for(session, ticket, staff)
        result = move(session, ticket, actor_of(staff), utcnow())
        moved = result.request if isinstance(result, desk.Supplied) else result
        answer = views.summary(moved, _role(staff))
        if isinstance(result, desk.Supplied) and result.file is not None:
            answer["download_url"] = files.download_url(result.file)
            answer["download_expires_at"] = result.file.expires_at.isoformat()
        return answer

    return await audited(_state(request), staff, f"delivery.{action}", work, ticket=ticket)


@router.post("/requests/{ticket}/accept")
async def accept(
    request: Request, ticket: str, staff: Staff, body: NoteBody | None = None
) -> dict[str, Any]:
    """WillSupply: your library will supply it."""
    note = body.note if body else None
    return await _act(
        request,
        staff,
        ticket,
        "accept",
        lambda s, t, a, now: desk.accept(s, t, a, now=now, note=note),
    )


@router.post("/requests/{ticket}/conditional")
async def conditional(
    request: Request, ticket: str, staff: Staff, body: ConditionsBody
) -> dict[str, Any]:
    """Offer on conditions (a cost, in-library use only ...); the patron accepts or declines."""
    return await _act(
        request,
        staff,
        ticket,
        "conditional",
        lambda s, t, a, now: desk.offer_conditions(s, t, a, now=now, note=body.note),
    )


@router.post("/requests/{ticket}/reject")
async def reject(request: Request, ticket: str, staff: Staff, body: RejectBody) -> dict[str, Any]:
    """Unfilled here, with a reason: the request moves to the next lender of the rota."""
    return await _act(
        request,
        staff,
        ticket,
        "reject",
        lambda s, t, a, now: desk.reject(
            s, t, a, reason=_reason(body.reason), now=now, note=body.note
        ),
    )


@router.post("/requests/{ticket}/forward")
async def forward(
    request: Request, ticket: str, staff: Staff, body: NoteBody | None = None
) -> dict[str, Any]:
    """Pass the request on to the next lender of the rota."""
    note = body.note if body else None
    return await _act(
        request,
        staff,
        ticket,
        "forward",
        lambda s, t, a, now: desk.forward(s, t, a, now=now, note=note),
    )


@router.post("/requests/{ticket}/supply")
async def supply(
    request: Request,
    ticket: str,
    staff: Staff,
    file: Annotated[UploadFile | None, File(description="the copy (PDF ...)")] = None,
    link: Annotated[str | None, Form(description="or: an http(s) link to it")] = None,
    note: Annotated[str | None, Form(max_length=2000)] = None,
) -> dict[str, Any]:
    """CopyCompleted: upload the copy (stored with an expiring link for the patron) or link it."""
    if file is not None and not file.filename:
        file = None  # an empty file field of a browser form
    link = link.strip() if link and link.strip() else None

    def move(s: Session, t: str, a: desk.Actor, now: Any) -> desk.Supplied:
        return desk.supply_copy(
            s,
            t,
            a,
            now=now,
            filename=file.filename if file else None,
            content=file.file if file else None,
            content_type=file.content_type if file else None,
            link=link,
            note=note,
        )

    try:
        return await _act(request, staff, ticket, "supply", move)
    finally:
        if file is not None:
            await file.close()


@router.post("/requests/{ticket}/ship-loan")
async def ship_loan(
    request: Request, ticket: str, staff: Staff, body: NoteBody | None = None
) -> dict[str, Any]:
    """Loaned: the item is on its way to the pickup library."""
    note = body.note if body else None
    return await _act(
        request,
        staff,
        ticket,
        "ship_loan",
        lambda s, t, a, now: desk.ship_loan(s, t, a, now=now, note=note),
    )


@router.post("/requests/{ticket}/complete")
async def complete(
    request: Request, ticket: str, staff: Staff, body: NoteBody | None = None
) -> dict[str, Any]:
    """Close a supplied request (the loan came back, the patron has the copy)."""
    note = body.note if body else None
    return await _act(
        request,
        staff,
        ticket,
        "complete",
        lambda s, t, a, now: desk.complete(s, t, a, now=now, note=note),
    )


@router.post("/requests/{ticket}/route")
async def route(request: Request, ticket: str, staff: Staff, body: RouteBody) -> dict[str, Any]:
    """Centre: add lenders to an unrouted request and send it to the first of them."""
    codes = [c.strip() for c in body.libraries if c.strip()]
    return await _act(
        request,
        staff,
        ticket,
        "route",
        lambda s, t, a, now: desk.add_lenders_and_route(s, t, a, codes, now=now),
        centre_only="choose lenders",
    )


@router.post("/requests/{ticket}/cancel")
async def cancel(
    request: Request, ticket: str, staff: Staff, body: NoteBody | None = None
) -> dict[str, Any]:
    """Centre: cancel a request (for the patron, or one it cannot serve)."""
    note = body.note if body else None
    return await _act(
        request,
        staff,
        ticket,
        "cancel",
        lambda s, t, a, now: desk.cancel(s, t, a, now=now, note=note),
        centre_only="cancel requests",
    )
