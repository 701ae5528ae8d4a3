"""Honouring Telegram's 429 retry_after for every request of this process.

PTB's AIORateLimiter can retry a 429 itself, but its requests take their rate-limit
slot *before* waiting out the pause, so they all go at once when it ends: a burst
over the limit, which Telegram answers with more 429s. Here the pause comes first
and the limiter after it, so requests leave the pause spaced out again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram.error import RetryAfter

T = TypeVar("T")


def retry_after_seconds(exc: RetryAfter) -> float:
    after = exc.retry_after
    return after.total_seconds() if hasattr(after, "total_seconds") else float(after)


class FloodGate:
    def __init__(self) -> None:
        self._until = 0.0

    def hit(self, seconds: float) -> None:
        self._until = max(self._until, time.monotonic() + seconds)

    async def wait(self) -> None:
        while (delay := self._until - time.monotonic()) > 0:
            await asyncio.sleep(delay)

    async def call(self, fn: Callable[[], Awaitable[T]], retries: int = 0) -> T:
        """``fn()`` after any pause; a 429 pauses everyone and is retried ``retries``
        times (safe: Telegram did not deliver a request it answered with 429)."""
        for attempt in range(retries + 1):
            await self.wait()
            try:
                return await fn()
            except RetryAfter as exc:
                self.hit(retry_after_seconds(exc) + 0.1)
                if attempt == retries:
                    raise
        raise AssertionError("unreachable")


# One per process: all requests of a bot token share Telegram's flood limits.
GATE = FloodGate()
