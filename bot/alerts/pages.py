"""Patron-facing alert links: one-tap unsubscribe and tracked item links.

``GET /alerts/unsubscribe/{token}`` shows what the link stops and a confirm button
(link scanners that prefetch GETs unsubscribe nobody); ``POST`` does it. A POST with
the body ``List-Unsubscribe=One-Click`` from a mail client (RFC 8058) is the same POST.
A changed token is 404, an expired one 410. ``GET /alerts/r/{token}`` redirects to the
item; the click is counted only when the patron opted in to engagement tracking.
``GET /alerts/o/{token}`` is the image in e-mail alerts to patrons who opted in: it
counts the message as opened (once) and is a 1x1 GIF for any token, never an error.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.alerts import pixel
from bot.delivery.pages import message_page, render
from bot.state import AppState
from kb.alerts import engagement, tokens
from kb.alerts.unsubscribe import describe, perform

router = APIRouter(include_in_schema=False)
log = logging.getLogger("refdesk.alerts")

_INVALID = (
    {"zh": "链接无效", "en": "This link is not valid"},
    {
        "zh": "这个退订链接不完整或被改动过。请使用通知里的原始链接，或在对话里说“退订”。",
        "en": "This unsubscribe link is incomplete or was changed. Use the link from the alert, "
        "or say “unsubscribe” in the chat.",
    },
)
_EXPIRED = (
    {"zh": "链接已过期", "en": "This link has expired"},
    {
        "zh": "这个退订链接已过期。最新通知里的链接仍然有效，也可以在对话里说“退订”。",
        "en": "This unsubscribe link has expired. The links in the latest alert work, or say "
        "“unsubscribe” in the chat.",
    },
)


def _problem(request: Request, exc: Exception) -> HTMLResponse:
    if isinstance(exc, tokens.TokenExpired):
        return message_page(request, 410, *_EXPIRED)
    return message_page(request, 404, *_INVALID)


@router.get("/alerts/unsubscribe/{token}")
async def confirm_page(request: Request, token: str) -> HTMLResponse:
    state: AppState = request.app.state.refdesk
    try:
        target = await state.db.run(describe, token)
    except (tokens.TokenInvalid, tokens.TokenExpired) as exc:
        return _problem(request, exc)
    what = target.labels
    if not target.still_subscribed:
        return message_page(
            request,
            200,
            {"zh": "已经退订", "en": "Already unsubscribed"},
            {"zh": f"您已不再接收：{what['zh']}。", "en": f"You no longer receive {what['en']}."},
        )
    return render(
        request,
        "alerts_unsubscribe.html",
        200,
        {
            "title": {"zh": "退订确认", "en": "Unsubscribe"},
            "body": {"zh": f"停止接收：{what['zh']}？", "en": f"Stop receiving {what['en']}?"},
            "button": {"zh": "确认退订", "en": "Unsubscribe"},
            "confirm": True,
            "action": str(request.url.path),
        },
    )


@router.post("/alerts/unsubscribe/{token}")
async def unsubscribe(request: Request, token: str) -> HTMLResponse:
    state: AppState = request.app.state.refdesk
    try:
        target = await state.db.run(perform, token)
    except (tokens.TokenInvalid, tokens.TokenExpired) as exc:
        return _problem(request, exc)
    what = target.labels
    return message_page(
        request,
        200,
        {"zh": "已退订", "en": "Unsubscribed"},
        {
            "zh": f"您将不再收到：{what['zh']}。想重新订阅时，在对话里告诉我们主题即可。",
            "en": f"You will no longer receive {what['en']}. To subscribe again, name the topics in the chat.",
        },
    )


@router.get("/alerts/r/{token}", response_model=None)
async def follow(request: Request, token: str) -> Response:
    state: AppState = request.app.state.refdesk
    try:
        target = await state.db.run(engagement.follow, token)
    except (tokens.TokenInvalid, tokens.TokenExpired) as exc:
        return _problem(request, exc)
    return RedirectResponse(target, status_code=302, headers={"Referrer-Policy": "no-referrer"})


@router.get(pixel.PREFIX + "{token}", response_model=None)
async def opened(request: Request, token: str) -> Response:
    state: AppState = request.app.state.refdesk
    try:
        await state.db.run(engagement.record_open, token)
    except tokens.TokenInvalid:
        pass  # not ours: nothing counted, the image all the same
    except Exception:  # noqa: BLE001 - a mail client shows the image, never an error
        log.exception("alerts: an e-mail open could not be recorded")
    return pixel.image()
