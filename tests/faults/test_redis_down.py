"""Redis (a private server: see conftest) killed mid-conversation: Rasa's lock store,
the gateway's rate-limit counters and its fan-out all lose it at once. The patron is
told clearly or answered, every line is kept, and once Redis is back on its port the
conversation works again without restarting anything."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.conftest import is_bilingual_notice, patron_lines
from tests.support.chat import ChatClient, texts

pytestmark = pytest.mark.stack


async def test_redis_killed_mid_conversation_loses_nothing(pg_stack) -> None:
    client = await ChatClient(pg_stack.ws_url).connect()
    assert "Hello" in texts(await client.say("hello"))
    pg_stack.redis.kill()
    try:
        during = ["how do I print in the library?", "请问古籍部周末开放吗"]
        for text in during:
            replies = await client.say(text, timeout=60)
            assert replies, "silence"
            first = replies[0]
            # Without its lock store the engine cannot take the turn: the patron is told
            # and the message becomes a question for a librarian (never a stack trace).
            if first["type"] == "notice":
                assert first["code"] == "assistant_unavailable" and "RQ-" in first["text"]
                assert is_bilingual_notice(first, "engine_unavailable") or "RQ-" in first["text"]
            else:
                assert first["type"] == "message" and "Traceback" not in texts(replies)
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
