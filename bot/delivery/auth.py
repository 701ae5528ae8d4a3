"""Staff authentication: ``Authorization: Bearer <API key>`` gives the staff member.

Missing, malformed, unknown and revoked keys all get 401 with a message saying
which; a revoked key's attempt is also written to the access log (the key was
real, so someone still has it).
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from bot.delivery.errors import ApiError
from bot.state import AppState
from kb.delivery.desk import Actor
from kb.staff import audit
from kb.staff.models import StaffMember
from kb.staff.service import authenticate

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="refdesk staff"'}
_PROBLEMS = {
    "malformed": "the API key is not in the form rdk_<id>_<secret>",
    "unknown": "the API key is not valid",
    "revoked": "the API key was revoked: ask an administrator for a new one",
}


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers=_CHALLENGE)


async def current_staff(request: Request) -> StaffMember:
    """A FastAPI dependency: the authenticated, active staff member making the call."""
    header = request.headers.get("authorization", "")
    if not header.strip():
        raise _unauthorized("send your API key as 'Authorization: Bearer <key>'")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("the Authorization header must be 'Bearer <key>'")
    state: AppState = request.app.state.refdesk

    def check(session: Session) -> tuple[StaffMember | None, str | None]:
        result = authenticate(session, token)
        if result.problem == "revoked" and result.member is not None:
            audit.record(
                session,
                result.member,
                f"{request.method} {request.url.path}"[:40],
                outcome=401,
                detail="revoked key used",
            )
        return result.member, result.problem

    member, problem = await state.db.run(check)
    if problem is not None or member is None:
        raise _unauthorized(_PROBLEMS.get(problem or "unknown", _PROBLEMS["unknown"]))
    return member


def actor_of(staff: StaffMember) -> Actor:
    """How the delivery domain sees a staff member: a lender's staff, or the centre."""
    if staff.library_code is None:
        return Actor.centre(staff.username)
    return Actor.lender(staff.username, staff.library_code)
