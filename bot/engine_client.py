"""Talking to the Rasa engine (the `refdesk` channel, see nlu/channels/gateway.py)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


class EngineUnavailable(Exception):
    """The engine could not be reached, timed out or failed."""


@dataclass
class EngineReply:
    messages: list[dict[str, Any]]
    parse: dict[str, Any] | None = None
    paused: bool = False
    entities: dict[str, str] = field(default_factory=dict)

    @property
    def intent(self) -> str | None:
        return (self.parse or {}).get("intent")

    @property
    def confidence(self) -> float | None:
        return (self.parse or {}).get("confidence")


class EngineClient:
    """The gateway's line to the engine.

    With ``max_turns`` set, at most that many turns are with the engine at once and the
    others wait here, first come first served, for up to ``queue_seconds``; ``timeout``
    counts from when a turn reaches the engine. The engine interleaves the turns it
    holds at every await (NLU, action server, tracker store), so with fifty at once each
    waits behind the others several times and the unlucky ones pass any timeout; a
    short line in front of it keeps the work it holds small and the order fair.
    """

    def __init__(
        self,
        engine_url: str,
        token: str,
        timeout: float,
        max_turns: int | None = None,
        queue_seconds: float = 60.0,
        observe: Callable[[float], None] | None = None,
    ) -> None:
        self._token = token
        # Told the seconds each answered turn spent with the engine (not in the line).
        self._observe = observe
        self._turns = asyncio.Semaphore(max_turns) if max_turns else None
        self._queue_seconds = queue_seconds
        self._http = httpx.AsyncClient(
            base_url=engine_url,
            timeout=httpx.Timeout(timeout, connect=2.0),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )

    async def close(self) -> None:
        await self._http.aclose()

    @contextlib.asynccontextmanager
    async def _turn_slot(self) -> AsyncIterator[None]:
        if self._turns is None:
            yield
            return
        try:
            async with asyncio.timeout(self._queue_seconds):
                await self._turns.acquire()
        except TimeoutError:
            raise EngineUnavailable(
                f"engine busy: no turn slot within {self._queue_seconds:g} s"
            ) from None
        try:
            yield
        finally:
            self._turns.release()

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> EngineReply:
        try:
            async with self._turn_slot():
                started = time.perf_counter()
                resp = await self._http.post(
                    "/webhooks/refdesk/webhook",
                    json={"sender": sender, "message": text, "metadata": metadata},
                )
                if self._observe is not None:
                    self._observe(time.perf_counter() - started)
        except httpx.HTTPError as exc:
            raise EngineUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if resp.status_code >= 400:
            raise EngineUnavailable(f"engine answered HTTP {resp.status_code}: {resp.text[:200]}")
        body = resp.json()
        parse = body.get("parse")
        entities = {e["entity"]: str(e["value"]) for e in (parse or {}).get("entities", [])}
        return EngineReply(
            messages=body.get("messages") or [],
            parse=parse,
            paused=bool(body.get("paused")),
            entities=entities,
        )

    async def is_ready(self) -> bool:
        """True when the engine answers and has a model loaded."""
        try:
            resp = await self._http.get("/status", params={"token": self._token}, timeout=3.0)
        except httpx.HTTPError:
            return False
        return resp.status_code == 200 and bool(resp.json().get("model_file"))

    async def set_paused(self, sender: str, paused: bool) -> None:
        """Pause (librarian owns the chat) or resume a conversation via the HTTP API."""
        event = {"event": "pause" if paused else "resume"}
        try:
            resp = await self._http.post(
                f"/conversations/{sender}/tracker/events",
                params={"token": self._token, "include_events": "NONE"},
                json=event,
            )
        except httpx.HTTPError as exc:
            raise EngineUnavailable(str(exc)) from exc
        if resp.status_code >= 400:
            raise EngineUnavailable(f"engine answered HTTP {resp.status_code} to {event}")
