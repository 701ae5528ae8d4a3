"""Live connections of this gateway process, by conversation.

A patron may have the chat open in several tabs; everything said in the
conversation (bot replies, later librarian replies and pushes) reaches all of
them. Fan-out between several gateway processes goes through Redis (see the
handoff room); this hub is the local end of it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("refdesk.hub")

Sender = Callable[[dict[str, Any]], Awaitable[None]]


class Hub:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[Sender]] = defaultdict(set)

    def subscribe(self, key: str, send: Sender) -> None:
        self._subscribers[key].add(send)

    def unsubscribe(self, key: str, send: Sender) -> None:
        subs = self._subscribers.get(key)
        if subs is not None:
            subs.discard(send)
            if not subs:
                del self._subscribers[key]

    def connected(self, key: str) -> bool:
        return bool(self._subscribers.get(key))

    async def publish(self, key: str, frame: dict[str, Any]) -> int:
        """Send a frame to every connection of a conversation; returns how many got it."""
        subs = list(self._subscribers.get(key, ()))
        results = await asyncio.gather(*(s(frame) for s in subs), return_exceptions=True)
        delivered = 0
        for send, result in zip(subs, results, strict=True):
            if isinstance(result, Exception):
                log.info("dropping dead connection for %s: %s", key, result)
                self.unsubscribe(key, send)
            else:
                delivered += 1
        return delivered
