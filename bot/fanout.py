"""Events that must reach every gateway process: a librarian's reply to a patron
connected to another gateway, a patron's line to a librarian's console, queue changes.

With ``REFDESK_REDIS_URL`` every event is published on a Redis channel and each
gateway delivers what it hears to its own connections (the local hub); without
Redis the event goes straight to the local hub. Channel names carry a hash of the
database URL, so deployments (and test runs) sharing one Redis never mix.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from typing import Any

from bot.hub import Hub

log = logging.getLogger("refdesk.fanout")


class Fanout:
    def __init__(self, hub: Hub, redis_url: str, database_url: str) -> None:
        self.hub = hub
        self.redis_url = redis_url
        self.prefix = "refdesk:" + hashlib.sha256(database_url.encode()).hexdigest()[:12] + ":"
        self._redis: Any = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

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
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._redis is not None:
            await self._redis.aclose()

    async def publish(self, key: str, frame: dict[str, Any]) -> None:
        if self._redis is None:
            await self.hub.publish(key, frame)
            return
        try:
            heard = await self._redis.publish(
                self.prefix + key, json.dumps(frame, ensure_ascii=False)
            )
        except Exception as exc:  # noqa: BLE001 - Redis down: this gateway's own clients still hear it
            log.warning("Redis publish failed (%s); delivering on this gateway only", exc)
            await self.hub.publish(key, frame)
            return
        if not heard:
            # Nobody subscribed, not even this gateway (Redis just restarted and the
            # listener is re-subscribing): deliver here rather than to no one.
            await self.hub.publish(key, frame)

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
                    await self.hub.publish(key, frame)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis restarted: listen again
                log.warning("fan-out listener lost Redis (%s); reconnecting", exc)
                await asyncio.sleep(1)
