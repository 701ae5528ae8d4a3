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

from bot.delivery import moves, views
from bot.delivery.auth import actor_of, current_staff
from bot.delivery.errors import ApiError, audited
from bot.state import AppState
from kb.catalog.models import Library
from kb.delivery import desk
from kb.delivery.states import Role
from kb.staff.models import StaffMember

router = APIRouter(prefix="/api/delivery", tags=["delivery"])
Staff = Annotated[StaffMember, Depends(current_staff)]


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
        moves.centre_only(staff, "see the unrouted queue")
        return {
            "requests": [views.summary(r, Role.LIBRARIAN) for r in desk.unrouted_queue(session)]
        }

    return await audited(_state(request), staff, "delivery.unrouted", work)


# --- one request -----------------------------------------------------------------


@router.get("/requests/{ticket}")
async def get_request(request: Request, ticket: str, staff: Staff) -> dict[str, Any]:
    """The whole request with rota and trail; the patron's contact is decrypted and audited."""

    def work(session: Session) -> dict[str, Any]:
        return views.detail(moves.request_for(session, ticket, staff), _role(staff))

    return await audited(
        _state(request), staff, "delivery.view", work, ticket=ticket, detail="contact_viewed"
    )


@router.post("/requests/{ticket}/accept")
async def accept(
    request: Request, ticket: str, staff: Staff, body: NoteBody | None = None
) -> dict[str, Any]:
    """WillSupply: your library will supply it."""
    note = body.note if body else None
    return await moves.act(_state(request), staff, ticket, "accept", moves.accept(note))


@router.post("/requests/{ticket}/conditional")
async def conditional(
    request: Request, ticket: str, staff: Staff, body: ConditionsBody
) -> dict[str, Any]:
    """Offer on conditions (a cost, in-library use only ...); the patron accepts or declines."""
    return await moves.act(
        _state(request), staff, ticket, "conditional", moves.conditional(body.note)
    )


@router.post("/requests/{ticket}/reject")
async def reject(request: Request, ticket: str, staff: Staff, body: RejectBody) -> dict[str, Any]:
    """Unfilled here, with a reason: the request moves to the next lender of the rota."""
    return await moves.act(
        _state(request), staff, ticket, "reject", moves.reject(body.reason, body.note)
    )


@router.post("/requests/{ticket}/forward")
async def forward(
    request: Request, ticket: str, staff: Staff, body: NoteBody | None = None
) -> dict[str, Any]:
    """Pass the request on to the next lender of the rota."""
    note = body.note if body else None
    return await moves.act(_state(request), staff, ticket, "forward", moves.forward(note))


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
    move = moves.supply(
        filename=file.filename if file else None,
        content=file.file if file else None,
        content_type=file.content_type if file else None,
        link=link,
        note=note,
    )
    try:
        return await moves.act(_state(request), staff, ticket, "supply", move)
    finally:
        if file is not None:
            await file.close()


@router.post("/requests/{ticket}/ship-loan")
async def ship_loan(
    request: Request, ticket: str, staff: Staff, body: NoteBody | None = None
) -> dict[str, Any]:
    """Loaned: the item is on its way to the pickup library."""
    note = body.note if body else None
    return await moves.act(_state(request), staff, ticket, "ship_loan", moves.ship_loan(note))


@router.post("/requests/{ticket}/complete")
async def complete(
    request: Request, ticket: str, staff: Staff, body: NoteBody | None = None
) -> dict[str, Any]:
    """Close a supplied request (the loan came back, the patron has the copy)."""
    note = body.note if body else None
    return await moves.act(_state(request), staff, ticket, "complete", moves.complete(note))


@router.post("/requests/{ticket}/route")
async def route(request: Request, ticket: str, staff: Staff, body: RouteBody) -> dict[str, Any]:
    """Centre: add lenders to an unrouted request and send it to the first of them."""
    codes = [c.strip() for c in body.libraries if c.strip()]
    return await moves.act(
        _state(request),
        staff,
        ticket,
        "route",
        moves.route(codes),
        centre_only_for="choose lenders",
    )


@router.post("/requests/{ticket}/cancel")
async def cancel(
    request: Request, ticket: str, staff: Staff, body: NoteBody | None = None
) -> dict[str, Any]:
    """Centre: cancel a request (for the patron, or one it cannot serve)."""
    note = body.note if body else None
    return await moves.act(
        _state(request),
        staff,
        ticket,
        "cancel",
        moves.cancel(note),
        centre_only_for="cancel requests",
    )
