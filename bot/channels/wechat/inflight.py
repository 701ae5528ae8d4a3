"""Turns still being worked on in this process, so WeChat's retries join them.

WeChat waits 5 seconds for an answer, then drops the connection and sends the
same message again (up to three times). The first request starts the turn; a
retry of it waits on the same turn instead of starting another. Whichever request
is waiting when the turn finishes answers with it (WeChat reads only the request
it is still waiting on). If every request has given up (answered "success") when
the turn finishes, the answer goes out later through the customer-service API.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

log = logging.getLogger("refdesk.wechat")
T = TypeVar("T")


@dataclass
class Pending(Generic[T]):
    task: asyncio.Task[T]
    waiters: int = 0
    # None while undecided, "passive" once a request answered with it, "later" when
    # it must be sent through the customer-service API.
    outcome: str | None = None
    on_later: Callable[[T], Awaitable[None]] | None = None
    _later_sent: bool = field(default=False, repr=False)

    async def wait(self, seconds: float, gone: Awaitable[object] | None = None) -> T | None:
        """The turn's result if it is ready within ``seconds`` (for a passive reply).

        ``gone`` completes when WeChat drops the connection: nobody would read the
        answer on it, so this request stops waiting (WeChat's retry may pick it up)."""
        if self.outcome == "later":
            return None
        self.waiters += 1
        watch = asyncio.ensure_future(gone) if gone is not None else None
        try:
            waiting: set[asyncio.Future[Any]] = {self.task}
            if watch is not None:
                waiting.add(watch)
            await asyncio.wait(waiting, timeout=max(0.0, seconds), return_when="FIRST_COMPLETED")
        finally:
            self.waiters -= 1
            dropped = watch is not None and watch.done()
            if watch is not None:
                watch.cancel()
        if self.task.done() and self.outcome != "later":
            self.outcome = "passive"
            return self.task.result()
        if not dropped:
            # This request answers "success", so WeChat will not ask again: the
            # answer has to go through the customer-service API.
            self.send_later()
        return None

    def send_later(self) -> None:
        """Hand the result over to the customer-service API (also when it is too long
        for a passive reply)."""
        self.outcome = "later"
        if self.task.done():
            self._fire()

    def _fire(self) -> None:
        if self._later_sent or self.on_later is None or self.task.cancelled():
            return
        self._later_sent = True
        spawn(self.on_later(self.task.result()))


_background: set[asyncio.Task[object]] = set()


def spawn(coro: Awaitable[object]) -> None:
    task: asyncio.Task[object] = asyncio.ensure_future(coro)
    _background.add(task)  # keep a reference until it is done
    task.add_done_callback(_background.discard)
    task.add_done_callback(_log_failure)


def _log_failure(task: asyncio.Task[object]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background WeChat job failed", exc_info=task.exception())


async def drain(timeout: float = 10.0) -> None:
    """Wait for background jobs (tests, shutdown)."""
    if _background:
        await asyncio.wait(set(_background), timeout=timeout)


class InFlight(Generic[T]):
    def __init__(self, keep_seconds: float) -> None:
        self._keep = keep_seconds
        self._pending: dict[str, Pending[T]] = {}

    def get(self, key: str) -> Pending[T] | None:
        return self._pending.get(key)

    def start(
        self,
        key: str,
        work: Awaitable[T],
        on_later: Callable[[T], Awaitable[None]],
    ) -> Pending[T]:
        pending: Pending[T] = Pending(asyncio.ensure_future(work), on_later=on_later)
        self._pending[key] = pending

        def finished(_: asyncio.Task[T]) -> None:
            if pending.outcome is None and pending.waiters == 0:
                # Every request for it was dropped by WeChat before it was ready.
                pending.outcome = "later"
            if pending.outcome == "later":
                pending._fire()
            # Retries come within ~15 s; keep the entry a while for them, then forget it.
            asyncio.get_running_loop().call_later(self._keep, self._pending.pop, key, None)

        pending.task.add_done_callback(finished)
        return pending
