"""Staff APIs of the patron services (``Authorization: Bearer <staff API key>``).

- ``/api/acquisitions/suggestions``: list purchase suggestions, accept or decline
  them (with a reason); every patron who asked is told the outcome in chat.
- ``/api/subjects/librarians``: the subject librarian directory; admins edit it.
- ``/api/feedback``: feedback patrons left in chat; mark it read or handled (with a
  note), export it as CSV.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bot.delivery.auth import current_staff
from bot.delivery.errors import ApiError, audited
from bot.state import AppState
from kb import acquisitions, feedback, subjects
from kb.feedback.service import MAX_NOTE
from kb.staff.models import StaffMember, StaffRole

router = APIRouter(prefix="/api", tags=["services"])
Staff = Annotated[StaffMember, Depends(current_staff)]


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.refdesk
    return state


def _admin(staff: StaffMember) -> None:
    if staff.role != StaffRole.ADMIN:
        raise ApiError(403, "admins_only", "only administrators may edit the directory")


# --- purchase suggestions ----------------------------------------------------------


class Decision(BaseModel):
    reason: str | None = Field(None, max_length=1000, description="required to decline")


@router.get("/acquisitions/suggestions")
async def list_suggestions(
    request: Request,
    staff: Staff,
    status: Annotated[str | None, Query(description="open, accepted or declined")] = None,
) -> JSONResponse:
    try:
        wanted = acquisitions.SuggestionStatus(status) if status else None
    except ValueError:
        raise ApiError(400, "bad_status", "status must be open, accepted or declined") from None

    def work(session: Session) -> list[dict[str, object]]:
        return [acquisitions.as_dict(s) for s in acquisitions.list_suggestions(session, wanted)]

    return JSONResponse(
        {"suggestions": await audited(_state(request), staff, "acquisitions.list", work)}
    )


async def _decide(request: Request, staff: StaffMember, sid: int, accept: bool, note: str | None):  # type: ignore[no-untyped-def]
    def work(session: Session) -> dict[str, object]:
        try:
            decided = acquisitions.decide(
                session, sid, accept=accept, note=note, staff=staff.username
            )
        except acquisitions.SuggestionNotFound as exc:
            raise ApiError(404, "not_found", str(exc)) from None
        except acquisitions.AlreadyDecided as exc:
            raise ApiError(409, "already_decided", str(exc)) from None
        except acquisitions.SuggestionError as exc:
            raise ApiError(400, "bad_request", str(exc)) from None
        return acquisitions.as_dict(decided)

    action = "acquisitions.accept" if accept else "acquisitions.decline"
    data = await audited(_state(request), staff, action, work, ticket=f"PS-{sid:06d}")
    return JSONResponse(data)


@router.post("/acquisitions/suggestions/{sid}/accept")
async def accept(
    request: Request, staff: Staff, sid: int, decision: Annotated[Decision | None, Body()] = None
) -> JSONResponse:
    return await _decide(request, staff, sid, True, decision.reason if decision else None)


@router.post("/acquisitions/suggestions/{sid}/decline")
async def decline(request: Request, staff: Staff, sid: int, decision: Decision) -> JSONResponse:
    return await _decide(request, staff, sid, False, decision.reason)


# --- subject librarians -----------------------------------------------------------------


@router.get("/subjects/librarians")
async def list_librarians(request: Request, staff: Staff) -> JSONResponse:
    def work(session: Session) -> list[dict[str, Any]]:
        rows = subjects.active_librarians(session) + [
            r for r in session.query(subjects.SubjectLibrarian).filter_by(active=False)
        ]
        return [subjects.as_dict(r) for r in rows]

    return JSONResponse(
        {"librarians": await audited(_state(request), staff, "subjects.list", work)}
    )


def _save(data: dict[str, Any], staff: StaffMember, key: str | None):  # type: ignore[no-untyped-def]
    def work(session: Session) -> dict[str, Any]:
        try:
            row = subjects.save_librarian(session, data, editor=staff.username, key=key)
        except subjects.LibrarianNotFound as exc:
            raise ApiError(404, "not_found", str(exc)) from None
        except subjects.SubjectError as exc:
            raise ApiError(400, "bad_request", str(exc)) from None
        return subjects.as_dict(row)

    return work


@router.post("/subjects/librarians", status_code=201)
async def add_librarian(
    request: Request, staff: Staff, data: Annotated[dict[str, Any], Body()]
) -> JSONResponse:
    _admin(staff)
    row = await audited(_state(request), staff, "subjects.add", _save(data, staff, None))
    return JSONResponse(row, status_code=201)


@router.put("/subjects/librarians/{key}")
async def edit_librarian(
    request: Request, staff: Staff, key: str, data: Annotated[dict[str, Any], Body()]
) -> JSONResponse:
    _admin(staff)
    return JSONResponse(
        await audited(_state(request), staff, "subjects.edit", _save(data, staff, key))
    )


@router.delete("/subjects/librarians/{key}")
async def delete_librarian(request: Request, staff: Staff, key: str) -> JSONResponse:
    _admin(staff)

    def work(session: Session) -> dict[str, str]:
        try:
            subjects.delete_librarian(session, key)
        except subjects.LibrarianNotFound as exc:
            raise ApiError(404, "not_found", str(exc)) from None
        return {"deleted": key}

    return JSONResponse(await audited(_state(request), staff, "subjects.delete", work))


# --- feedback ---------------------------------------------------------------------------


def _feedback_filters(
    kind: str | None, status: str | None, since: str | None
) -> tuple[feedback.FeedbackKind | None, feedback.FeedbackStatus | None, datetime | None]:
    try:
        wanted = feedback.FeedbackKind(kind) if kind else None
    except ValueError:
        raise ApiError(
            400, "bad_kind", "kind must be complaint, praise, suggestion or other"
        ) from None
    try:
        state = feedback.FeedbackStatus(status) if status else None
    except ValueError:
        raise ApiError(400, "bad_status", "status must be new, seen or handled") from None
    try:
        start = datetime.fromisoformat(since) if since else None
    except ValueError:
        raise ApiError(400, "bad_since", "since must be an ISO date, e.g. 2026-03-01") from None
    if start is not None and start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    return wanted, state, start


KindQuery = Annotated[str | None, Query(description="complaint, praise, suggestion, other")]
StatusQuery = Annotated[str | None, Query(description="new, seen or handled")]
SinceQuery = Annotated[str | None, Query(description="ISO date or datetime")]


@router.get("/feedback")
async def list_feedback(
    request: Request,
    staff: Staff,
    kind: KindQuery = None,
    status: StatusQuery = None,
    since: SinceQuery = None,
) -> JSONResponse:
    wanted, state, start = _feedback_filters(kind, status, since)

    def work(session: Session) -> list[dict[str, Any]]:
        rows = feedback.list_feedback(session, kind=wanted, status=state, since=start)
        return [feedback.as_dict(f) for f in rows]

    return JSONResponse({"feedback": await audited(_state(request), staff, "feedback.list", work)})


@router.get("/feedback.csv")
async def export_feedback(
    request: Request,
    staff: Staff,
    kind: KindQuery = None,
    status: StatusQuery = None,
    since: SinceQuery = None,
) -> Response:
    wanted, state, start = _feedback_filters(kind, status, since)

    def work(session: Session) -> str:
        rows = feedback.list_feedback(session, kind=wanted, status=state, since=start, limit=None)
        return feedback.to_csv(rows)

    text = await audited(_state(request), staff, "feedback.export", work)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="feedback.csv"'},
    )


class FeedbackNote(BaseModel):
    note: str | None = Field(None, max_length=MAX_NOTE)


def _feedback_step(fid: int, step: Callable[[Session], feedback.Feedback]):  # type: ignore[no-untyped-def]
    def work(session: Session) -> dict[str, Any]:
        try:
            return feedback.as_dict(step(session))
        except feedback.FeedbackNotFound as exc:
            raise ApiError(404, "not_found", str(exc)) from None
        except feedback.FeedbackError as exc:
            raise ApiError(400, "bad_request", str(exc)) from None

    return work


@router.post("/feedback/{fid}/read")
async def read_feedback(request: Request, staff: Staff, fid: int) -> JSONResponse:
    work = _feedback_step(fid, lambda s: feedback.mark_seen(s, fid, staff.username))
    return JSONResponse(
        await audited(_state(request), staff, "feedback.read", work, ticket=f"FB-{fid:06d}")
    )


@router.post("/feedback/{fid}/handled")
async def handle_feedback(
    request: Request, staff: Staff, fid: int, body: Annotated[FeedbackNote | None, Body()] = None
) -> JSONResponse:
    note = body.note if body else None
    work = _feedback_step(
        fid, lambda s: feedback.mark_handled(s, fid, staff=staff.username, note=note)
    )
    return JSONResponse(
        await audited(_state(request), staff, "feedback.handle", work, ticket=f"FB-{fid:06d}")
    )
