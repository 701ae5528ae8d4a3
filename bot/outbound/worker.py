"""The outbound worker: scan due messages, pace per chat, claim, send, record.

One loop per process. Each round it recovers expired claims, scans due messages,
keeps one message per chat in flight and at least ``chat_interval`` between two
pushes to one chat (Telegram asks for about one message a second per chat; the
overall 30/s and per-group 20/min are PTB's AIORateLimiter's job inside the
Telegram sender), claims what it can send now and sends it with bounded
concurrency. Every state change is its own short transaction (``store``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.db import Database
from bot.outbound import (
    ChannelSender,
    Outgoing,
    SendRejected,
    SendRetry,
    SendUncertain,
    SendUnreachable,
    store,
)
from kb.db import utcnow
from kb.outbound import OutboundStatus
from kb.settings import Settings

log = logging.getLogger("refdesk.outbound")


class ChatPacer:
    """Per-chat spacing: the next push to a chat may start ``interval`` after the
    previous one *finished* (so the gap the channel sees is never shorter)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next: dict[tuple[str, str], float] = {}
        self._busy: set[tuple[str, str]] = set()

    def ready_at(self, key: tuple[str, str]) -> float | None:
        """Monotonic time the chat is free again; None while a send is in flight."""
        if key in self._busy:
            return None
        return self._next.get(key, 0.0)

    def start(self, key: tuple[str, str]) -> None:
        self._busy.add(key)

    def done(self, key: tuple[str, str]) -> None:
        self._busy.discard(key)
        self._next[key] = time.monotonic() + self.interval
        if len(self._next) > 50_000:  # forget chats long idle
            now = time.monotonic()
            self._next = {k: v for k, v in self._next.items() if v > now}


class Worker:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        senders: Sequence[ChannelSender],
        worker_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.senders = {s.channel: s for s in senders}
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.pacer = ChatPacer(settings.telegram_chat_interval_seconds)
        self._slots = asyncio.Semaphore(settings.outbound_concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self.counts = {"sent": 0, "retry": 0, "unreachable": 0, "dead": 0, "uncertain": 0}

    def wake(self) -> None:
        """Something was queued: scan now instead of after the idle wait."""
        self._wake.set()

    def _live(self, channel: str, address: str) -> bool:
        sender = self.senders.get(channel)
        return sender is not None and sender.live(address)

    @property
    def _idempotent(self) -> set[str]:
        return {c for c, s in self.senders.items() if s.idempotent}

    # --- the loop --------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        log.info("outbound worker %s for %s", self.id, ", ".join(self.senders) or "no channel")
        last_recovery = 0.0
        while not stop.is_set():
            # Scan when a quarter of the send slots are free, not for every free slot:
            # a scan reads and decrypts a batch, so claiming in batches is cheaper.
            batch = max(1, self.settings.outbound_concurrency // 4)
            while self._tasks and self.settings.outbound_concurrency - len(self._tasks) < batch:
                await asyncio.wait(set(self._tasks), return_when=asyncio.FIRST_COMPLETED)
            try:
                if time.monotonic() - last_recovery > min(
                    30.0, self.settings.outbound_lease_seconds / 4
                ):
                    await self.recover()
                    last_recovery = time.monotonic()
                claimed, wait = await self.round()
            except Exception:  # the database may be briefly away; never let the loop die
                log.exception("outbound round failed; retrying")
                claimed, wait = 0, 5.0
            if claimed:
                continue
            self._wake.clear()
            stop_wait = asyncio.ensure_future(stop.wait())
            wake_wait = asyncio.ensure_future(self._wake.wait())
            await asyncio.wait(
                {stop_wait, wake_wait},
                timeout=min(wait, self.settings.outbound_poll_seconds),
                return_when=asyncio.FIRST_COMPLETED,
            )
            stop_wait.cancel()
            wake_wait.cancel()
        await self.drain()

    async def drain(self) -> None:
        """Let sends in flight finish and be recorded."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def recover(self) -> int:
        n = await self.db.run(store.recover_expired, self._idempotent, utcnow())
        if n:
            log.warning("recovered %d expired claims", n)
        return n

    async def round(self) -> tuple[int, float]:
        """One scan; returns how many were claimed and how long to wait if none."""
        free = self.settings.outbound_concurrency - len(self._tasks)
        if free <= 0 or not self.senders:
            return 0, self.settings.outbound_poll_seconds
        found = await self.db.run(
            store.scan, list(self.senders), self._live, max(4 * free, 50), utcnow()
        )
        self.counts["dead"] += found.dead
        now_mono, now = time.monotonic(), utcnow()
        picks: list[store.Candidate] = []
        deferred: dict[str, datetime] = {}
        taken: set[tuple[str, str]] = set()
        waiting: dict[tuple[str, str], datetime] = {}
        soonest = self.settings.outbound_poll_seconds
        for c in found.candidates:
            key = (c.channel, c.address)
            if key in waiting:  # defer the chat's later messages too: keeps their order
                deferred[c.id] = waiting[key]
                continue
            ready = self.pacer.ready_at(key)
            if key in taken or ready is None:
                continue  # one message per chat per round, in queue order
            if ready > now_mono:
                waiting[key] = deferred[c.id] = now + timedelta(seconds=ready - now_mono)
                soonest = min(soonest, ready - now_mono)
                continue
            if len(picks) < free:
                picks.append(c)
            taken.add(key)
        if deferred:
            await self.db.run(store.defer, deferred)
        if not picks:
            return 0, max(0.05, soonest)
        lease = utcnow() + timedelta(seconds=self.settings.outbound_lease_seconds)
        won = await self.db.run(store.claim, picks, self.id, lease)
        for c in won:
            self.pacer.start((c.channel, c.address))
            task = asyncio.create_task(self._deliver(c))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(won), 0.0

    async def _deliver(self, c: store.Candidate) -> None:
        sender = self.senders[c.channel]
        outgoing = Outgoing(
            message_id=c.id,
            address=c.address,
            text=c.text,
            buttons=c.buttons,
            language=c.language,
            kind=c.kind,
            links=c.links,
            email=c.email,
        )
        s = self.settings
        try:
            async with self._slots:
                try:
                    channel_id = await sender.send(outgoing)
                except SendRetry as exc:
                    status = await self.db.run(
                        store.mark_retry,
                        c.id,
                        f"{c.channel}: {exc.reason}",
                        after=exc.after,
                        counts=exc.counts,
                        max_attempts=s.outbound_max_attempts,
                        base=s.outbound_backoff_seconds,
                        cap=s.outbound_backoff_max_seconds,
                    )
                    self.counts["dead" if status == OutboundStatus.DEAD else "retry"] += 1
                    return
                except SendUnreachable as exc:
                    if c.identity_id is None:  # e-mail: no chat identity to mark
                        await self.db.run(
                            store.mark_final,
                            c.id,
                            OutboundStatus.DEAD,
                            f"{c.channel}: {exc.reason}",
                        )
                        self.counts["dead"] += 1
                        return
                    await self.db.run(store.mark_unreachable, c.id, c.identity_id, exc.reason)
                    self.counts["unreachable"] += 1
                    return
                except SendRejected as exc:
                    await self.db.run(
                        store.mark_final, c.id, OutboundStatus.DEAD, f"{c.channel}: {exc.reason}"
                    )
                    self.counts["dead"] += 1
                    return
                except Exception as exc:  # SendUncertain and anything unforeseen
                    reason = exc.reason if isinstance(exc, SendUncertain) else repr(exc)
                    log.warning("uncertain send of %s on %s: %s", c.id, c.channel, reason)
                    await self.db.run(
                        store.mark_final,
                        c.id,
                        OutboundStatus.UNCERTAIN,
                        f"{c.channel}: may have been delivered: {reason}",
                    )
                    self.counts["uncertain"] += 1
                    return
                await self.db.run(store.mark_sent, c, channel_id)
                self.counts["sent"] += 1
        except Exception:
            # Recording failed (database away): the row stays SENDING and its lease
            # expiry makes it UNCERTAIN, never resent.
            log.exception("could not record the outcome of %s", c.id)
        finally:
            self.pacer.done((c.channel, c.address))
