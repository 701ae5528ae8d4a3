"""``POST /webhooks/telegram``: updates Telegram pushes to us in webhook mode.

Telegram sends the secret we registered in ``X-Telegram-Bot-Api-Secret-Token``;
anything without it (compared in constant time) is refused with 403, so nobody
else can inject updates. The update is queued for PTB and answered at once:
Telegram resends on a slow or failed answer, which would duplicate turns.
"""

from __future__ import annotations

import hmac
import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

log = logging.getLogger("refdesk.telegram")
router = APIRouter()

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024


@router.post("/webhooks/telegram", include_in_schema=False)
async def telegram_webhook(request: Request) -> JSONResponse:
    channel = getattr(request.app.state.refdesk, "telegram", None)
    if channel is None or channel.polling:
        return JSONResponse({"error": "the Telegram webhook is not enabled"}, status_code=404)
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode("utf-8"), channel.secret.encode("utf-8")):
        return JSONResponse({"error": "bad or missing secret token"}, status_code=403)
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse({"error": "update too large"}, status_code=413)
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return JSONResponse({"error": f"body is not JSON: {exc}"}, status_code=400)
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return JSONResponse(
            {"error": "an update must be a JSON object with an integer update_id"},
            status_code=400,
        )
    try:
        await channel.feed(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # PTB's Update.de_json trusts the shape: {"message": 0} is an AttributeError.
        return JSONResponse(
            {"error": f"not a Telegram update: {type(exc).__name__}: {exc}"}, status_code=400
        )
    return JSONResponse({"ok": True})
