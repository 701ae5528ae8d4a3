"""Moves on a delivery request made by staff, shared by the API and the console.

Both sides check access the same way (a lending library's staff only on requests
with their library now; some moves for delivery-centre staff only), make the move
through :mod:`kb.delivery.desk` and audit it with :func:`bot.delivery.errors.audited`.
So a button in the console and a call to ``/api/delivery`` cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.delivery import views
from bot.delivery.auth import actor_of
from bot.delivery.errors import ApiError, audited
from bot.state import AppState
from kb.db import utcnow
from kb.delivery import desk, files
from kb.delivery.models import DeliveryRequest
from kb.delivery.states import ReasonUnfilled
from kb.staff.models import StaffMember

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

# move(session, ticket, actor, now) -> the request, or desk.Supplied
Move = Callable[[Session, str, desk.Actor, datetime], Any]


def parse_reason(text: str) -> ReasonUnfilled:
    """A lender's reason from ``NotHeld``, ``not_held`` or ``not-held``; 400 otherwise."""
    key = text.replace("_", "").replace("-", "").replace(" ", "").lower()
    for reason in LENDER_REASONS:
        if reason.value.lower() == key:
            return reason
    allowed = ", ".join(r.value for r in LENDER_REASONS)
    raise ApiError(400, "bad_reason", f"unknown reason {text!r}: use one of {allowed}")


def centre_only(staff: StaffMember, what: str) -> None:
    if not staff.at_centre:
        raise ApiError(403, "centre_only", f"only delivery-centre staff can {what}")


def request_for(session: Session, ticket: str, staff: StaffMember) -> DeliveryRequest:
    """The request, if this staff member may see and act on it (404 / 403 otherwise)."""
    request = desk.get_request(session, ticket)
    if not staff.at_centre and request.current_lender != staff.library_code:
        raise desk.NotYourRequest(request, actor_of(staff))
    return request


async def act(
    state: AppState,
    staff: StaffMember,
    ticket: str,
    action: str,
    move: Move,
    *,
    centre_only_for: str | None = None,
    detail: str | None = None,
) -> dict[str, Any]:
    """Check access, make the move, answer the request's summary (and a supplied file's link).

    Refusals are raised inside the audited transaction, so they are logged too,
    and reach the caller as :class:`ApiError` (403, 404, 409 ...).
    """

    def work(session: Session) -> dict[str, Any]:
        if centre_only_for:
            centre_only(staff, centre_only_for)
        request_for(session, ticket, staff)
        actor = actor_of(staff)
        result = move(session, ticket, actor, utcnow())
        moved = result.request if isinstance(result, desk.Supplied) else result
        answer = views.summary(moved, actor.role)
        if isinstance(result, desk.Supplied) and result.file is not None:
            answer["download_url"] = files.download_url(result.file)
            answer["download_expires_at"] = result.file.expires_at.isoformat()
        return answer

    return await audited(state, staff, f"delivery.{action}", work, ticket=ticket, detail=detail)


# --- the moves, each a call into kb.delivery.desk ----------------------------------


def accept(note: str | None) -> Move:
    return lambda s, t, a, now: desk.accept(s, t, a, now=now, note=note)


def conditional(note: str) -> Move:
    return lambda s, t, a, now: desk.offer_conditions(s, t, a, now=now, note=note)


def reject(reason: str, note: str | None) -> Move:
    def move(s: Session, t: str, a: desk.Actor, now: datetime) -> DeliveryRequest:
        return desk.reject(s, t, a, reason=parse_reason(reason), now=now, note=note)

    return move


def forward(note: str | None) -> Move:
    return lambda s, t, a, now: desk.forward(s, t, a, now=now, note=note)


def supply(
    *,
    filename: str | None,
    content: Any,
    content_type: str | None,
    link: str | None,
    note: str | None,
) -> Move:
    def move(s: Session, t: str, a: desk.Actor, now: datetime) -> desk.Supplied:
        return desk.supply_copy(
            s,
            t,
            a,
            now=now,
            filename=filename,
            content=content,
            content_type=content_type,
            link=link,
            note=note,
        )

    return move


def ship_loan(note: str | None) -> Move:
    return lambda s, t, a, now: desk.ship_loan(s, t, a, now=now, note=note)


def complete(note: str | None) -> Move:
    return lambda s, t, a, now: desk.complete(s, t, a, now=now, note=note)


def cancel(note: str | None) -> Move:
    return lambda s, t, a, now: desk.cancel(s, t, a, now=now, note=note)


def route(codes: list[str]) -> Move:
    return lambda s, t, a, now: desk.add_lenders_and_route(s, t, a, codes, now=now)
