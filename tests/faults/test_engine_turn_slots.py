"""The gateway keeps at most ``REFDESK_ENGINE_MAX_TURNS`` turns with the engine at once;
the others wait for their place, first come first served, and a turn that cannot get
one within ``REFDESK_ENGINE_QUEUE_SECONDS`` is told the engine is busy.

Against a real HTTP server on the engine's webhook path that takes 0.2 s a turn and
records how many turns it holds at once and in which order they came.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.engine_client import EngineClient, EngineUnavailable


@dataclass
class SlowEngine:
    seconds: float = 0.2
    holding: int = 0
    most_held: int = 0
    arrived: list[str] = field(default_factory=list)

    async def webhook(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.arrived.append(body["sender"])
        self.holding += 1
        self.most_held = max(self.most_held, self.holding)
        try:
            await asyncio.sleep(self.seconds)
        finally:
            self.holding -= 1
        return JSONResponse({"messages": [{"text": f"answer to {body['sender']}"}]})


@pytest.fixture
async def slow_engine() -> AsyncIterator[tuple[SlowEngine, str]]:
    engine = SlowEngine()
    app = Starlette(routes=[Route("/webhooks/refdesk/webhook", engine.webhook, methods=["POST"])])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    yield engine, f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def test_turns_wait_for_their_place_in_order(slow_engine: tuple[SlowEngine, str]) -> None:
    engine, url = slow_engine
    client = EngineClient(url, "", timeout=5.0, max_turns=3)
    senders = [f"patron-{i:02d}" for i in range(12)]
    try:
        replies = await asyncio.gather(*(client.send(s, "hi", {}) for s in senders))
    finally:
        await client.close()
    assert [r.messages[0]["text"] for r in replies] == [f"answer to {s}" for s in senders]
    assert engine.most_held == 3
    # First come, first served: the first three go first, the last three last.
    assert set(engine.arrived[:3]) == set(senders[:3])
    assert set(engine.arrived[-3:]) == set(senders[-3:])


async def test_without_a_limit_the_engine_holds_every_turn(
    slow_engine: tuple[SlowEngine, str],
) -> None:
    engine, url = slow_engine
    client = EngineClient(url, "", timeout=5.0)
    try:
        await asyncio.gather(*(client.send(f"p{i}", "hi", {}) for i in range(8)))
    finally:
        await client.close()
    assert engine.most_held == 8


async def test_a_turn_that_gets_no_place_in_time_is_told_the_engine_is_busy(
    slow_engine: tuple[SlowEngine, str],
) -> None:
    engine, url = slow_engine
    engine.seconds = 0.5
    client = EngineClient(url, "", timeout=5.0, max_turns=1, queue_seconds=0.1)
    try:
        first, second = await asyncio.gather(
            client.send("first", "hi", {}), client.send("second", "hi", {}), return_exceptions=True
        )
        assert not isinstance(first, BaseException)
        assert first.messages[0]["text"] == "answer to first"
        assert isinstance(second, EngineUnavailable) and "busy" in str(second)
        assert engine.arrived == ["first"]
        # The place it waited for is free again afterwards.
        assert (await client.send("third", "hi", {})).messages[0]["text"] == "answer to third"
    finally:
        await client.close()
