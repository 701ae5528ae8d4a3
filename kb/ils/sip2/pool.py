"""A small pool of logged-in SIP2 connections.

SIP2 servers are built for self-check machines that stay connected: Koha and
Evergreen start a server process per connection and check the 93 login on
each. Connecting per request would pay a process start, a login and a status
check for every chat message, and open as many connections as there are busy
chats. A pool of a few long-lived connections, each serving one request at a
time (SIP2 is strictly request/response), keeps the ILS's view to "a couple of
terminals". Connections idle past the ILS's own timeout are dropped before use.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from kb.ils.sip2.connection import Sip2Config, Sip2Connection


class Sip2Pool:
    def __init__(self, config: Sip2Config) -> None:
        self.config = config
        self._idle: list[Sip2Connection] = []
        self._slots = asyncio.Semaphore(max(1, config.pool_size))

    @asynccontextmanager
    async def connection(self, *, fresh: bool = False) -> AsyncIterator[Sip2Connection]:
        """A connection for one exchange; ``fresh`` skips the idle ones (after a drop)."""
        async with self._slots:
            conn = None if fresh else await self._reuse()
            if conn is None:
                conn = await Sip2Connection.open(self.config)
            try:
                yield conn
            finally:
                if conn.usable:
                    self._idle.append(conn)
                else:
                    await conn.close()

    async def _reuse(self) -> Sip2Connection | None:
        while self._idle:
            conn = self._idle.pop()  # most recently used first: the likeliest to be alive
            if conn.usable and conn.idle_for() < self.config.idle_seconds:
                return conn
            await conn.close()
        return None

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()
