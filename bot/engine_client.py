"""Talking to the Rasa engine (the `refdesk` channel, see nlu/channels/gateway.py)."""

from __future__ import annotations

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
    def __init__(self, engine_url: str, token: str, timeout: float) -> None:
        self._token = token
        self._http = httpx.AsyncClient(
            base_url=engine_url,
            timeout=httpx.Timeout(timeout, connect=2.0),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> EngineReply:
        try:
            resp = await self._http.post(
                "/webhooks/refdesk/webhook",
                json={"sender": sender, "message": text, "metadata": metadata},
            )
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
