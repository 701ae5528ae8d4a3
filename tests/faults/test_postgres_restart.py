"""PostgreSQL goes away mid-conversation and comes back (a private cluster: see
conftest). The patron is told clearly, each message is handed back and, sent again
as the widget does by itself, kept; the gateway then works without a restart."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.conftest import is_bilingual_notice, patron_lines
from tests.support.chat import ChatClient, language_of, texts

pytestmark = pytest.mark.stack


async def test_postgres_restart_mid_conversation_loses_nothing(pg_stack) -> None:
    client = await ChatClient(pg_stack.ws_url).connect()
    assert "Hello" in texts(await client.say("hello"))
    during = ["Please keep this: I need the 1930s Shanghai newspapers", "还有民国时期的北京地图吗"]
    refused = []
    await asyncio.to_thread(pg_stack.postgres.stop)
    try:
        for text in during:
            (frame,) = await client.say(text)
            assert frame["type"] == "error" and is_bilingual_notice(frame, "storage_unavailable")
            assert language_of([frame]) == ("zh" if "地图" in text else "en")
            assert frame["unsent"] == text and frame["retry_after"] > 0
            refused.append(frame)
    finally:
        await asyncio.to_thread(pg_stack.postgres.start)

    # Sent again (the widget waits retry_after and resends): each is kept and answered,
    # by the assistant or, if the engine's own store is still reconnecting, as a question.
    for frame in refused:
        replies = await client.say(frame["unsent"], timeout=60)
        assert replies and all(r["type"] in ("message", "notice") for r in replies), replies
    assert patron_lines(pg_stack, client.session) == ["hello", *during]

    # Service is back by itself: a normal answer, no restart of anything.
    back = await client.say("hello")
    assert back[0]["type"] == "message" and "Hello" in texts(back)
    await client.close()


async def test_a_patron_reconnecting_during_the_outage_keeps_the_session(pg_stack) -> None:
    client = await ChatClient(pg_stack.ws_url).connect()
    await client.say("你好")
    await client.close()
    await asyncio.to_thread(pg_stack.postgres.stop)
    try:
        # The history cannot be read: the socket says so and closes ("try again later")
        # instead of starting a new conversation under a new session.
        import websockets

        ws = await websockets.connect(f"{pg_stack.ws_url}?session={client.session}")
        frame = await asyncio.wait_for(ws.recv(), 30)
        assert '"storage_unavailable"' in frame
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    finally:
        await asyncio.to_thread(pg_stack.postgres.start)
    again = await ChatClient(pg_stack.ws_url, session=client.session).connect()
    assert again.resumed and [m["text"] for m in again.history if m["speaker"] == "patron"] == [
        "你好"
    ]
    await again.close()
