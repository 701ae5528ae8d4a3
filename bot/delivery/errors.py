"""Turning what the delivery domain refuses into HTTP answers, and the audited call.

Every answer to a bad call is ``{"error": <code>, "message": <what was wrong>}``
with a 4xx status, never a 500: unknown ticket 404, another library's request
403, a move the state machine does not allow 409 (its message names the
current status and what is allowed now).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bot.state import AppState
from kb.delivery import desk, files, transitions
from kb.delivery.tickets import normalize_ticket
from kb.staff import audit
from kb.staff.models import StaffMember

log = logging.getLogger("refdesk.delivery")
T = TypeVar("T")


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        self.status, self.code, self.message, self.headers = status, code, message, headers
        super().__init__(message)

    def response(self) -> JSONResponse:
        return JSONResponse(
            {"error": self.code, "message": self.message},
            status_code=self.status,
            headers=self.headers,
        )


def from_domain(exc: Exception) -> ApiError | None:
    """The HTTP answer for a refusal of the delivery domain; None for a real fault."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, desk.RequestNotFound):
        return ApiError(404, "not_found", str(exc))
    if isinstance(exc, desk.NotYourRequest):
        return ApiError(403, "not_your_library", str(exc))
    if isinstance(exc, transitions.TransitionRefused):
        return ApiError(409, "transition_refused", str(exc))
    if isinstance(exc, StaleDataError):
        return ApiError(
            409, "changed_meanwhile", "someone changed this request meanwhile: reload it"
        )
    if isinstance(exc, files.FileTooLarge):
        return ApiError(413, "file_too_large", str(exc))
    if isinstance(exc, desk.SupplyRefused | files.FileRefused | desk.UnknownLibrary):
        return ApiError(400, "bad_request", str(exc))
    return None


def ticket_label(text: str | None) -> str | None:
    """The ticket as audited: normalised when it is one, else what was sent (cut short)."""
    if text is None:
        return None
    return normalize_ticket(text) or text[:20]


async def audited(
    state: AppState,
    staff: StaffMember,
    action: str,
    work: Callable[[Session], T],
    *,
    ticket: str | None = None,
    detail: str | None = None,
) -> T:
    """Run ``work`` in one transaction with its audit row; a refusal is audited on its own."""
    label = ticket_label(ticket)

    def run(session: Session) -> T:
        result = work(session)
        audit.record(session, staff, action, outcome=200, ticket=label, detail=detail)
        return result

    try:
        return await state.db.run(run)
    except Exception as exc:
        error = from_domain(exc)
        status = error.status if error else 500
        why = error.message if error else f"internal error: {type(exc).__name__}"

        def record(session: Session) -> None:
            audit.record(session, staff, action, outcome=status, ticket=label, detail=why)

        await state.db.run(record)
        if error is None:
            raise
        raise error from exc


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if part != "body") or "body"


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # One readable line per problem instead of pydantic's nested structure.
        problems = [f"{_where(tuple(e.get('loc', ())))}: {e.get('msg')}" for e in exc.errors()]
        return JSONResponse(
            {"error": "invalid_request", "message": "; ".join(problems), "problems": problems},
            status_code=422,
        )
