"""Events that must reach every gateway process: a librarian's reply to a patron
connected to another gateway, a patron's line to a librarian's console, queue changes.

With ``REFDESK_REDIS_URL`` every event is published on a Redis channel and each
gateway delivers what it hears to its own connections (the local hub); without
Redis the event goes straight to the local hub. Channel names carry a hash of the
database URL, so deployments (and test runs) sharing one Redis never mix.

While Redis is down an event reaches this gateway's own connections at once and is
kept (in order, up to ``BACKLOG`` events); once Redis answers again and the other
gateways have subscribed again, the kept events are published, so a patron on one
gateway and a librarian on another get what was said meanwhile, late but once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import secrets
import time
from collections import deque
from typing import Any

from bot.hub import Hub

log = logging.getLogger("refdesk.fanout")

BACKLOG = 1000  # events kept while Redis is down; older ones are dropped (and logged)
# After Redis is back, wait this long at most for the other gateways to subscribe again.
RESUBSCRIBE_WAIT_SECONDS = 30.0
PROBE_KEY = "__probe__"  # no connection has this key: publishing it only counts listeners
_FROM = "_fanout_from"  # marks a replayed event with its gateway, which already has it


class Fanout:
    def __init__(self, hub: Hub, redis_url: str, database_url: str) -> None:
        self.hub = hub
        self.redis_url = redis_url
        self.prefix = "refdesk:" + hashlib.sha256(database_url.encode()).hexdigest()[:12] + ":"
        self._redis: Any = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self.id = secrets.token_hex(6)
        self._backlog: deque[tuple[str, dict[str, Any]]] = deque()
        self._replay: asyncio.Task[None] | None = None
        # The most gateways that heard one event: how many to wait for after an outage.
        self._listeners = 1

    @property
    def distributed(self) -> bool:
        return bool(self.redis_url)

    async def start(self) -> None:
        if not self.redis_url or self._task is not None:
            return
        import redis.asyncio as redis

        self._redis = redis.from_url(self.redis_url)
        self._task = asyncio.create_task(self._listen(), name="fanout-listener")
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def close(self) -> None:
        for task in (self._task, self._replay):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._redis is not None:
            await self._redis.aclose()

    async def publish(self, key: str, frame: dict[str, Any]) -> None:
        if self._redis is None:
            await self.hub.publish(key, frame)
            return
        if self._backlog:  # events wait their turn behind those kept in the outage
            await self._keep(key, frame)
            return
        try:
            heard = await self._redis.publish(
                self.prefix + key, json.dumps(frame, ensure_ascii=False)
            )
        except Exception as exc:  # noqa: BLE001 - Redis down: this gateway's own clients still hear it
            log.warning("Redis publish failed (%s); delivering on this gateway only", exc)
            await self._keep(key, frame)
            return
        self._listeners = max(self._listeners, heard)
        if not heard:
            # Nobody subscribed, not even this gateway (Redis just restarted and the
            # listener is re-subscribing): deliver here rather than to no one.
            await self.hub.publish(key, frame)

    async def _keep(self, key: str, frame: dict[str, Any]) -> None:
        """Deliver here now; publish to the other gateways once Redis is back."""
        await self.hub.publish(key, frame)
        if len(self._backlog) >= BACKLOG:
            log.warning("fan-out backlog full: an event for %s reaches this gateway only", key)
            self._backlog.popleft()
        self._backlog.append((key, frame))
        if self._replay is None or self._replay.done():
            self._replay = asyncio.create_task(self._replay_backlog(), name="fanout-replay")

    async def _replay_backlog(self) -> None:
        """Once Redis answers and the gateways that listened before are listening again
        (or after RESUBSCRIBE_WAIT_SECONDS), publish the kept events in order."""
        back_since: float | None = None
        while self._backlog:
            await asyncio.sleep(0.5)
            try:
                heard = await self._redis.publish(self.prefix + PROBE_KEY, "{}")
            except Exception:  # noqa: BLE001 - still down
                back_since = None
                continue
            back_since = back_since or time.monotonic()
            waited = time.monotonic() - back_since
            if heard < self._listeners and waited < RESUBSCRIBE_WAIT_SECONDS:
                continue
            try:
                while self._backlog:
                    key, frame = self._backlog[0]
                    data = json.dumps({**frame, _FROM: self.id}, ensure_ascii=False)
                    await self._redis.publish(self.prefix + key, data)
                    self._backlog.popleft()
            except Exception:  # noqa: BLE001 - lost Redis again: keep the rest
                back_since = None
        log.info("fan-out: events kept during the Redis outage were published")

    async def _listen(self) -> None:
        while True:
            try:
                pubsub = self._redis.pubsub()
                await pubsub.psubscribe(self.prefix + "*")
                self._ready.set()
                async for message in pubsub.listen():
                    if message.get("type") != "pmessage":
                        continue
                    key = message["channel"].decode()[len(self.prefix) :]
                    try:
                        frame = json.loads(message["data"])
                    except ValueError:
                        continue
                    if not isinstance(frame, dict) or frame.pop(_FROM, None) == self.id:
                        continue  # not ours, or replayed after an outage: delivered here already
                    await self.hub.publish(key, frame)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis restarted: listen again
                log.warning("fan-out listener lost Redis (%s); reconnecting", exc)
                await asyncio.sleep(1)
