"""The web chat: a page, an embeddable widget script and its WebSocket.

Frames are JSON text. Client -> server:
  {"type": "message", "text": "...", "id": "<client id>"}
  {"type": "button", "title": "...", "payload": "/intent", "id": "<client id>"}
  {"type": "draft", "token": "<OpenURL draft token>", "title": "..."}   from /chat?draft=
  {"type": "privacy"}                      the Privacy button: asks for the page link
  {"type": "ping"}
Server -> client:
  {"type": "session", "session": "<token>", "resumed": bool}   first frame
  {"type": "history", "messages": [...]}                          on resume
  {"type": "message", "speaker": "patron|bot|librarian|system", "text": ..., "buttons": [...]}
  {"type": "typing", "on": bool}
  {"type": "notice" | "error", "code": "...", "text": "..."}
  {"type": "privacy", "url": "<one-time link to the patron's privacy page>"}
  {"type": "pong"}
The session token is the patron's web identity; reconnecting with
``?session=<token>`` resumes the conversation.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.websockets import WebSocketDisconnect, WebSocketState

from bot import privacy_command, texts
from bot.db import RETRY_AFTER_SECONDS, StorageUnavailable
from bot.limits import client_address
from bot.live.steps import patron_key
from bot.replies import Reply
from bot.router import Follower
from bot.state import AppState
from kb.conversations import conversation_for, find_conversation, recent_messages
from kb.ils.prompts import PIN_HIDDEN
from kb.language import detect_language
from kb.patrons.service import sender_id
from kb.privacy import page_links
from kb.settings import get_settings

log = logging.getLogger("refdesk.web")
router = APIRouter()

CHANNEL = "web"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@router.get("/chat", response_class=HTMLResponse)
async def chat_page(request: Request) -> HTMLResponse:
    state: AppState = request.app.state.refdesk
    return state.templates.TemplateResponse(request, "chat.html", {})


@router.get("/widget.js")
async def widget_script(request: Request) -> Response:
    state: AppState = request.app.state.refdesk
    return Response(
        state.static_text("widget.js"),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


def _history(session: Session, token: str) -> list[dict[str, Any]] | None:
    conv = find_conversation(session, CHANNEL, token)
    if conv is None:
        return None
    frames = []
    for m in recent_messages(session, conv, limit=100):
        frame: dict[str, Any] = {
            "speaker": m.speaker.value,
            "text": m.text,
            "at": m.created_at.isoformat(),
        }
        if m.payload and m.payload.get("buttons"):
            frame["buttons"] = m.payload["buttons"]
        if m.payload and m.payload.get("name"):
            frame["name"] = m.payload["name"]
        frames.append(frame)
    return frames


def _privacy_link(session: Session, token: str) -> str:
    conv = conversation_for(session, CHANNEL, token)
    minutes = get_settings().privacy_page_link_minutes
    return privacy_command.page_url(
        page_links.issue(session, conv.patron_id, CHANNEL, minutes=minutes)
    )


def _message_frame(reply: Reply) -> dict[str, Any]:
    frame = reply.to_json()
    frame["type"] = "notice" if reply.kind == "notice" else "message"
    return frame


def _error(code: str, language: str | None, **values: object) -> dict[str, Any]:
    return {"type": "error", "code": code, "text": texts.text(code, language, **values)}


@router.websocket("/ws/chat")
async def chat_socket(ws: WebSocket) -> None:
    state: AppState = ws.app.state.refdesk
    address = client_address(ws.client.host if ws.client else None)
    await ws.accept()
    if not state.limits.open_socket(address):
        await ws.send_json(_error("too_many_sockets", None))
        await ws.close(code=1013)  # "try again later"
        return
    state.metrics.connections.inc()
    token = ws.query_params.get("session") or ""
    try:
        history = await state.db.run(_history, token) if _TOKEN.match(token) else None
    except StorageUnavailable:
        # Not a fresh session instead: that would cut the patron off their conversation.
        state.metrics.connections.dec()
        state.limits.close_socket(address)
        await ws.send_json(_error("storage_unavailable", None, seconds=RETRY_AFTER_SECONDS))
        await ws.close(code=1013)  # "try again later": the widget reconnects
        return
    if history is None:
        token = secrets.token_urlsafe(24)
    # Keyed by the engine's sender id: librarians' replies find the socket by conversation.
    key = patron_key(sender_id(CHANNEL, token))
    language: str | None = None

    async def send(frame: dict[str, Any]) -> None:
        if ws.application_state == WebSocketState.CONNECTED:
            await ws.send_json(frame)

    state.hub.subscribe(key, send)
    try:
        await send({"type": "session", "session": token, "resumed": history is not None})
        if history:
            await send({"type": "history", "messages": history})
        while True:
            event = await ws.receive()
            if event["type"] == "websocket.disconnect":
                break
            raw = event.get("text")
            if raw is None:
                try:
                    raw = (event.get("bytes") or b"").decode("utf-8")
                except UnicodeDecodeError:
                    state.metrics.errors.labels("not_utf8").inc()
                    await send(_error("not_utf8", language))
                    continue
            frame = _parse_frame(raw)
            if isinstance(frame, str):
                state.metrics.errors.labels("bad_frame").inc()
                await send(_error("bad_frame", language or detect_language(raw), detail=frame))
                continue
            if frame["type"] == "ping":
                await send({"type": "pong"})
                continue
            if frame["type"] == "privacy":
                # The widget's Privacy button: a one-time link to this patron's page.
                try:
                    url = await state.db.run(_privacy_link, token)
                except StorageUnavailable:
                    await send(_error("storage_unavailable", language, seconds=RETRY_AFTER_SECONDS))
                    continue
                await send({"type": "privacy", "url": url})
                continue
            try:
                language = await _turn(state, send, key, token, frame, language)
            except StorageUnavailable:
                # Nothing of this message was written: hand it back to be sent again.
                state.metrics.errors.labels("storage_unavailable").inc()
                text = frame["title"] if frame["type"] in ("button", "draft") else frame["text"]
                await send(
                    _error(
                        "storage_unavailable",
                        detect_language(text) or language,
                        seconds=RETRY_AFTER_SECONDS,
                    )
                    | {"retry_after": RETRY_AFTER_SECONDS, "unsent": text, "id": frame.get("id")}
                )  # an error frame ends the turn: clients stop showing "typing"
    except WebSocketDisconnect:
        pass
    finally:
        state.hub.unsubscribe(key, send)
        state.metrics.connections.dec()
        state.limits.close_socket(address)


async def _turn(
    state: AppState,
    send: Callable[[dict[str, Any]], Awaitable[None]],
    key: str,
    token: str,
    frame: dict[str, Any],
    language: str | None,
) -> str | None:
    """One patron frame through the router; returns the conversation's language."""
    text = frame["title"] if frame["type"] in ("button", "draft") else frame["text"]
    retry_after = await state.limits.message_allowed(key)
    if retry_after is not None:
        # Not processed, not lost: the frame carries the text back to the input box.
        state.metrics.errors.labels("rate_limited").inc()
        if frame["type"] == "message" and await state.router.expects_pin(CHANNEL, token):
            text = PIN_HIDDEN  # other tabs must not see a PIN
        await send(
            _error("rate_limited", language, seconds=retry_after)
            | {"retry_after": retry_after, "unsent": text, "id": frame.get("id")}
        )
        return language

    async def echo(kept: str | None) -> None:
        # Once the line is kept, and as kept (other tabs must not see a PIN): a line
        # the database refused is handed back with an error instead, never echoed.
        line = kept if kept is not None and frame["type"] == "message" else text
        await state.hub.publish(
            key, {"type": "message", "speaker": "patron", "text": line, "id": frame.get("id")}
        )
        await send({"type": "typing", "on": True})

    async def answer(replies: list[Reply]) -> None:
        for reply in replies:
            await state.hub.publish(key, _message_frame(reply))

    if frame["type"] == "draft":
        turn = await state.router.handle_draft(
            CHANNEL, token, frame["title"], frame["token"], Follower(echo, answer)
        )
    elif frame["type"] == "button":
        turn = await state.router.handle_button(
            CHANNEL, token, frame["title"], frame["payload"], Follower(echo, answer)
        )
    else:
        turn = await state.router.handle_text(CHANNEL, token, frame["text"], Follower(echo, answer))
    # What came after the engine's answer was written down (a place in the queue), or the
    # whole turn when the engine did not answer it.
    await answer(turn.replies)
    # "typing off" closes the turn: clients know every reply has arrived.
    await send({"type": "typing", "on": False})
    return turn.language or language


def _parse_frame(raw: str) -> dict[str, Any] | str:
    """The frame as a dict, or a description of what is wrong with it."""
    try:
        frame = json.loads(raw)
    except json.JSONDecodeError as exc:
        return f"not JSON ({exc.msg} at position {exc.pos})"
    if not isinstance(frame, dict):
        return "a frame must be a JSON object"
    kind = frame.get("type")
    if kind in ("ping", "privacy"):
        return frame
    if kind == "message":
        if not isinstance(frame.get("text"), str):
            return "'text' must be a string"
        return frame
    if kind == "button":
        if not isinstance(frame.get("payload"), str) or not isinstance(frame.get("title"), str):
            return "'title' and 'payload' must be strings"
        return frame
    if kind == "draft":
        if not isinstance(frame.get("token"), str) or not isinstance(frame.get("title"), str):
            return "'token' and 'title' must be strings"
        return frame
    return f"unknown frame type {kind!r} (expected message, button, draft, privacy or ping)"
