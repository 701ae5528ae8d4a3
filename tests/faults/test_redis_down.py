"""Redis (a private server: see conftest) killed mid-conversation: Rasa's lock store,
the gateway's rate-limit counters and the fan-out between gateways all lose it at once.

- One patron with the assistant: each message is answered in its language, or the
  patron is told the assistant is briefly unavailable with a reference that really is a
  question kept for a librarian; every line is kept; answers resume without restarts.
- A patron on gateway A in a live chat with a librarian signed in on gateway B: what
  either says while Redis is down is stored at once and reaches the other side once
  Redis is back (late, once, in order), and the chat then goes on live.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from sqlalchemy import select
from websockets.sync.client import connect

from bot.texts import TEXTS
from tests.console.conftest import Librarian
from tests.faults.conftest import patron_lines
from tests.support.chat import ChatClient, language_of, texts
from tests.support.gateway import gateway_process

pytestmark = pytest.mark.stack


def _question_text(stack, reference: str) -> str | None:  # type: ignore[no-untyped-def]
    from kb.questions.models import ReferenceQuestion

    with stack.db() as session:
        for q in session.scalars(select(ReferenceQuestion)):
            if q.reference == reference:
                return q.text
    return None


async def test_redis_killed_mid_conversation_loses_nothing(pg_stack) -> None:  # type: ignore[no-untyped-def]
    client = await ChatClient(pg_stack.ws_url).connect()
    assert "Hello" in texts(await client.say("hello"))
    pg_stack.redis.kill()
    during = {"how do I print in the library?": "en", "请问古籍部周末开放吗": "zh"}
    try:
        for text, language in during.items():
            replies = await client.say(text, timeout=60)
            assert replies, "silence"
            first = replies[0]
            if first["type"] == "notice":
                # Without its lock store the engine cannot take the turn: the patron is
                # told, and the reference names the question kept with their words.
                zh, en = TEXTS["engine_unavailable"]
                lead = (zh if language == "zh" else en).split("{")[0]
                assert first["code"] == "assistant_unavailable", first
                assert first["text"].startswith(lead), first  # in the language they wrote in
                reference = first["text"].split("RQ-")[1][:6]
                # (later lines of the same outage join the same question)
                assert text in (_question_text(pg_stack, "RQ-" + reference) or "")
            else:
                assert first["type"] == "message" and "Traceback" not in texts(replies)
                assert language_of(replies) == language, replies
    finally:
        await asyncio.to_thread(pg_stack.redis.start)
    assert patron_lines(pg_stack, client.session) == ["hello", *during]

    # Redis is back on its port: answers again, with no restart of the engine or gateway.
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        back = await client.say("hello", timeout=60)
        if back[0]["type"] == "message":
            break
        assert asyncio.get_running_loop().time() < deadline, back
        await asyncio.sleep(2)
    assert "Hello" in texts(back)
    await client.close()


def _lines(stack, conversation_id: int) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    from kb.conversations import Message

    with stack.db() as session:
        rows = session.scalars(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
        )
        return [
            (m.speaker.value, m.text) for m in rows if m.speaker.value in ("patron", "librarian")
        ]


class Heard:
    """Librarian lines a patron's socket receives, whenever they arrive."""

    def __init__(self, client: ChatClient) -> None:
        self.lines: list[str] = []
        self.task = asyncio.create_task(self._read(client))

    async def _read(self, client: ChatClient) -> None:
        while True:
            frame = json.loads(await client.ws.recv())
            if frame.get("type") == "message" and frame.get("speaker") == "librarian":
                self.lines.append(frame["text"])

    async def until(self, count: int, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.lines) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return list(self.lines)


class ConsoleLines:
    """Patron lines the librarian's console socket receives."""

    def __init__(self, ws) -> None:  # type: ignore[no-untyped-def]
        self.ws = ws
        self.lines: list[str] = []

    def until(self, count: int, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.lines) < count and time.monotonic() < deadline:
            try:
                frame = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            except TimeoutError:
                break
            if frame.get("type") == "line" and frame.get("speaker") == "patron":
                self.lines.append(frame["text"])
        return list(self.lines)


async def test_patron_and_librarian_on_two_gateways_across_a_redis_outage(pg_stack) -> None:  # type: ignore[no-untyped-def]
    from kb.console.queue import request_chat
    from kb.conversations import conversation_for

    settings = {
        "database_url": pg_stack.database_url,
        "tracker_store_url": pg_stack.env["REFDESK_TRACKER_STORE_URL"],
        "redis_url": pg_stack.redis.url,
        "console_secure_cookies": "false",
    }
    with gateway_process(pg_stack.home, **settings) as gateway_b:
        li = await asyncio.to_thread(Librarian, gateway_b.url, "wang")
        assert li.post("/status", {"status": "online"}).status_code == 200
        patron = await ChatClient(pg_stack.ws_url).connect()  # gateway A
        with pg_stack.db() as session:
            conv = conversation_for(session, "web", patron.session)
            conv.language = "en"
            conversation_id, chat_id = conv.id, request_chat(session, conv, "intent").id
        assert li.post(f"/chats/{chat_id}/claim").status_code == 200
        console = ConsoleLines(
            connect(
                gateway_b.ws_url.replace("/ws/chat", "/console/ws"),
                additional_headers={"Cookie": li.cookie_header()},
            )
        )
        heard = Heard(patron)

        async def patron_says(text: str) -> None:
            await patron.ws.send(json.dumps({"type": "message", "text": text}))

        # Redis up: across the two gateways, both ways.
        assert li.post(f"/chats/{chat_id}/reply", {"text": "Hello, how can I help?"}).is_success
        assert await heard.until(1, 30) == ["Hello, how can I help?"]
        await patron_says("Where are the 1930s newspapers?")
        assert await asyncio.to_thread(console.until, 1, 30) == ["Where are the 1930s newspapers?"]

        # Redis dies: both sides' lines are stored at once; neither reaches the other yet.
        pg_stack.redis.kill()
        try:
            reply = li.post(f"/chats/{chat_id}/reply", {"text": "On microfilm, floor 2."})
            assert reply.is_success, reply.text
            await patron_says("Can I print from the microfilm?")
            await asyncio.sleep(3)
            said = _lines(pg_stack, conversation_id)
            assert said[-2:] == [
                ("librarian", "On microfilm, floor 2."),
                ("patron", "Can I print from the microfilm?"),
            ]
            assert heard.lines == ["Hello, how can I help?"]  # not lost: held back
        finally:
            await asyncio.to_thread(pg_stack.redis.start)

        # Redis back: what was said meanwhile arrives, once and in order, on both sides.
        assert await heard.until(2, 60) == ["Hello, how can I help?", "On microfilm, floor 2."]
        assert await asyncio.to_thread(console.until, 2, 60) == [
            "Where are the 1930s newspapers?",
            "Can I print from the microfilm?",
        ]
        # ... and the chat goes on live.
        assert li.post(f"/chats/{chat_id}/reply", {"text": "Yes, 0.5 yuan a page."}).is_success
        await patron_says("Thank you!")
        assert (await heard.until(3, 30))[2:] == ["Yes, 0.5 yuan a page."]
        assert (await asyncio.to_thread(console.until, 3, 30))[2:] == ["Thank you!"]
        await asyncio.sleep(2)  # nothing arrives twice
        assert len(heard.lines) == 3 and len(console.until(4, 1)) == 3
        assert _lines(pg_stack, conversation_id) == [
            ("librarian", "Hello, how can I help?"),
            ("patron", "Where are the 1930s newspapers?"),
            ("librarian", "On microfilm, floor 2."),
            ("patron", "Can I print from the microfilm?"),
            ("librarian", "Yes, 0.5 yuan a page."),
            ("patron", "Thank you!"),
        ]
        heard.task.cancel()
        console.ws.close()
        await patron.close()
