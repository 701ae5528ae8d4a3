"""``/internal/ils/*``: the action server's way to the patron's account (never a PIN).

Only for the other refdesk processes: every call must carry the engine token
they share (``X-Refdesk-Internal``), and names the conversation it is for.
"""

from __future__ import annotations

import dataclasses
import enum
import hmac
from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bot.delivery.errors import ApiError
from bot.services.ils import IlsDesk, NotConnected, NotVerified
from kb.ils.sip2.errors import Sip2Error, Sip2OutcomeUnknown

HEADER = "X-Refdesk-Internal"


def _require_token(request: Request) -> None:
    """A dependency, so the token is checked before the body is read and validated:
    a caller without it learns nothing, not even the body's shape."""
    expected = request.app.state.refdesk.settings.engine_token
    given = request.headers.get(HEADER, "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiError(403, "forbidden", "internal API: wrong or missing token")


router = APIRouter(
    prefix="/internal/ils", include_in_schema=False, dependencies=[Depends(_require_token)]
)


class Call(BaseModel):
    sender: str = Field(min_length=1, max_length=64)
    item_id: str | None = Field(None, max_length=64)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


async def _run(request: Request, op: str, call: Call) -> JSONResponse:
    state = request.app.state.refdesk
    desk: IlsDesk = state.ils
    try:
        if op == "account":
            result: Any = await desk.account(call.sender)
        elif op == "renew":
            if not call.item_id:
                return _error(422, "invalid_request", "item_id is required")
            result = await desk.renew(call.sender, call.item_id)
        elif op == "renew_all":
            result = await desk.renew_all(call.sender)
        else:
            result = {"ended": await desk.end(call.sender)}
    except NotConnected:
        return _error(503, "not_connected", "no library system is configured")
    except NotVerified:
        return _error(401, "not_verified", "the patron has not verified in this conversation")
    except Sip2OutcomeUnknown as exc:
        return _error(409, "outcome_unknown", str(exc))
    except Sip2Error as exc:
        return _error(502, "ils_unavailable", f"{type(exc).__name__}: {exc}")
    return JSONResponse(_plain(result))


@router.post("/account")
async def account(request: Request, call: Call) -> JSONResponse:
    return await _run(request, "account", call)


@router.post("/renew")
async def renew(request: Request, call: Call) -> JSONResponse:
    return await _run(request, "renew", call)


@router.post("/renew_all")
async def renew_all(request: Request, call: Call) -> JSONResponse:
    return await _run(request, "renew_all", call)


@router.post("/end")
async def end(request: Request, call: Call) -> JSONResponse:
    return await _run(request, "end", call)
