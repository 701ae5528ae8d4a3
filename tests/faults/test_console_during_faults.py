"""A librarian and a patron in a live chat while PostgreSQL, then Redis, go away.
Neither side's lines are lost: the console refuses with a clear 503 that keeps the
text, the patron's widget is handed its text back; once the part is back both resend
and the chat carries on, still owned by the same librarian."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select
from websockets.sync.client import connect

from bot.texts import TEXTS
from tests.console.conftest import Librarian
from tests.faults.conftest import is_bilingual_notice
from tests.support.chat import ChatClient

pytestmark = pytest.mark.stack


def _lines(stack, conversation_id: int) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    from kb.conversations import Message

    with stack.db() as session:
        rows = session.scalars(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
        )
        return [(m.speaker.value, m.text) for m in rows]


async def _next(client: ChatClient, **match: object) -> dict:  # type: ignore[type-arg]
    while True:
        frame = await client.next_frame(30)
        if all(frame.get(k) == v for k, v in match.items()):
            return frame


def _console_line(ws, text: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    while True:
        frame = json.loads(ws.recv(timeout=30))
        if frame.get("type") == "line" and frame.get("text") == text:
            return frame


async def test_live_chat_survives_a_database_restart_and_redis_down(pg_stack) -> None:
    from kb.console.queue import request_chat
    from kb.conversations import conversation_for

    li = await asyncio.to_thread(Librarian, pg_stack.gateway_url, "li")
    assert li.post("/status", {"status": "online"}).status_code == 200
    patron = await ChatClient(pg_stack.ws_url).connect()
    with pg_stack.db() as session:
        conv = conversation_for(session, "web", patron.session)
        conv.language = "en"
        conversation_id, chat_id = conv.id, request_chat(session, conv, "intent").id
    assert li.post(f"/chats/{chat_id}/claim").status_code == 200
    await _next(patron, code="librarian_joined")
    console = connect(
        pg_stack.ws_url.replace("/ws/chat", "/console/ws"),
        additional_headers={"Cookie": li.cookie_header()},
    )

    # --- PostgreSQL stops ------------------------------------------------------------
    await asyncio.to_thread(pg_stack.postgres.stop)
    try:
        refused = li.post(f"/chats/{chat_id}/reply", {"text": "Let me check the stacks."})
        assert refused.status_code == 503 and refused.headers["Retry-After"]
        body = refused.json()
        assert body["code"] == "storage_unavailable" and not body["ok"]
        assert body["message"] in (
            TEXTS["storage_unavailable"][0].format(seconds=body["retry_after"]),
            TEXTS["storage_unavailable"][1].format(seconds=body["retry_after"]),
        )
        (frame,) = await patron.say("Are you still there?")
        assert is_bilingual_notice(frame, "storage_unavailable")
        assert frame["unsent"] == "Are you still there?"
    finally:
        await asyncio.to_thread(pg_stack.postgres.start)
    # Both resend (the console put the text back in the box; the widget resends itself).
    assert li.post(f"/chats/{chat_id}/reply", {"text": "Let me check the stacks."}).is_success
    got = await _next(patron, type="message", speaker="librarian")
    assert got["text"] == "Let me check the stacks."
    await patron.say("Are you still there?")
    await asyncio.to_thread(_console_line, console, "Are you still there?")

    # --- Redis dies: events between console and patron go through this gateway ---------
    pg_stack.redis.kill()
    try:
        assert li.post(f"/chats/{chat_id}/reply", {"text": "Found it: shelf 3B."}).is_success
        got = await _next(patron, type="message", speaker="librarian")
        assert got["text"] == "Found it: shelf 3B."
        await patron.say("Thank you!")
        await asyncio.to_thread(_console_line, console, "Thank you!")
    finally:
        await asyncio.to_thread(pg_stack.redis.start)
    assert li.post(f"/chats/{chat_id}/reply", {"text": "You're welcome."}).is_success
    got = await _next(patron, type="message", speaker="librarian")
    assert got["text"] == "You're welcome."

    transcript = li.get(f"/chats/{chat_id}").json()
    assert transcript["status"] == "active" and transcript["mine"]  # never sent back
    said = [t for t in _lines(pg_stack, conversation_id) if t[0] in ("patron", "librarian")]
    assert said == [
        ("librarian", "Let me check the stacks."),
        ("patron", "Are you still there?"),
        ("librarian", "Found it: shelf 3B."),
        ("patron", "Thank you!"),
        ("librarian", "You're welcome."),
    ]
    console.close()
    await patron.close()
