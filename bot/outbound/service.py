"""The outbound worker as part of the gateway process.

It runs here rather than as a fourth supervised process because two of its
channels live here: web pushes go to the WebSocket connections this process holds
(the hub), and Telegram pushes share the gateway's PTB bot, whose rate limiter
must see live replies and pushes together to keep the bot under Telegram's flood
limits. A separate process would need a second limiter that does not know about the
first. ``python -m bot.outbound`` runs the same worker alone (tests, a dedicated
box); several workers may run at once, claims keep them apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from bot.db import Database
from bot.outbound import ChannelSender
from bot.outbound.worker import Worker
from kb.settings import Settings

log = logging.getLogger("refdesk.outbound")


class OutboundService:
    def __init__(self, settings: Settings, db: Database, senders: Sequence[ChannelSender]) -> None:
        self.worker = Worker(settings, db, senders)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def add_sender(self, sender: ChannelSender) -> None:
        self.worker.senders[sender.channel] = sender
        self.worker.wake()

    def start(self) -> None:
        self._task = asyncio.create_task(self.worker.run(self._stop))

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                try:
                    await asyncio.wait_for(self._task, timeout=20)
                except TimeoutError:
                    log.warning("outbound worker did not stop in time; its claims will expire")
        for sender in self.worker.senders.values():
            await sender.close()
