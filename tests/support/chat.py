"""A web-chat client speaking the gateway's WebSocket protocol, as the widget does."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import websockets

from kb.language import detect_language


@dataclass
class ChatClient:
    url: str
    session: str | None = None
    resumed: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    # Outbound pushes (frames with "push") arrive whenever they are sent, also in the
    # middle of a turn; they are kept here instead of counting as the turn's replies.
    pushes: list[dict[str, Any]] = field(default_factory=list)
    # The privacy notice of the first contact follows that turn's answer; it is kept
    # here, not among the replies, unless a test about the notice asks for it.
    privacy_notices: list[dict[str, Any]] = field(default_factory=list)
    notices_as_replies: bool = False
    ws: Any = None

    async def connect(self) -> ChatClient:
        url = self.url + (f"?session={self.session}" if self.session else "")
        self.ws = await websockets.connect(url, max_size=2**20)
        first = await self.next_frame()
        assert first["type"] == "session", first
        self.session, self.resumed = first["session"], first["resumed"]
        if self.resumed:
            history = await self.next_frame()
            assert history["type"] == "history", history
            self.history = history["messages"]
        return self

    async def close(self) -> None:
        await self.ws.close()

    async def next_frame(self, timeout: float = 30) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def _turn(self, frame: dict[str, Any], timeout: float) -> list[dict[str, Any]]:
        await self.ws.send(json.dumps(frame, ensure_ascii=False))
        replies: list[dict[str, Any]] = []
        while True:
            got = await self.next_frame(timeout)
            if got.get("push"):
                self.pushes.append(got)
                continue
            if got["type"] == "typing" and not got["on"]:
                return replies
            if got.get("code") == "privacy_notice" and not self.notices_as_replies:
                self.privacy_notices.append(got)
                continue
            if got["type"] in ("message", "notice", "error") and got.get("speaker") != "patron":
                replies.append(got)
                if got["type"] == "error":
                    return replies

    async def say(self, text: str, timeout: float = 30) -> list[dict[str, Any]]:
        """Send a message; returns every reply of that turn."""
        return await self._turn({"type": "message", "text": text}, timeout)

    async def click(self, button: dict[str, str], timeout: float = 30) -> list[dict[str, Any]]:
        return await self._turn(
            {"type": "button", "title": button["title"], "payload": button["payload"]}, timeout
        )


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def language_of(replies: list[dict[str, Any]]) -> str | None:
    return detect_language(texts(replies))
