"""Has this WeChat delivery been seen? (WeChat resends a message it got no answer to.)

Keys expire after ``wechat_dedupe_seconds``. Redis (SET NX EX) when REFDESK_REDIS_URL
is set, so several gateway processes agree; otherwise the database table
``inbound_seen``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Protocol

from bot.db import Database
from kb.inbound import claim_delivery, purge_seen
from kb.inbound.service import delivery_key

log = logging.getLogger("refdesk.wechat")
CHANNEL = "wechat"
PURGE_EVERY = 200


class Deduper(Protocol):
    async def first_time(self, raw_key: str) -> bool: ...

    async def close(self) -> None: ...


class DbDeduper:
    def __init__(self, db: Database, ttl_seconds: int) -> None:
        self._db = db
        self._ttl = timedelta(seconds=ttl_seconds)
        self._claims = 0

    async def first_time(self, raw_key: str) -> bool:
        first = await self._db.run(claim_delivery, CHANNEL, raw_key, self._ttl)
        self._claims += 1
        if self._claims % PURGE_EVERY == 0:
            await self._db.run(purge_seen)
        return first

    async def close(self) -> None:
        return None


class RedisDeduper:
    def __init__(self, url: str, ttl_seconds: int) -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(url)
        self._ttl = ttl_seconds

    async def first_time(self, raw_key: str) -> bool:
        key = "refdesk:inbound:" + delivery_key(CHANNEL, raw_key)
        return bool(await self._redis.set(key, b"1", nx=True, ex=self._ttl))

    async def close(self) -> None:
        await self._redis.aclose()


def deduper_for(redis_url: str, db: Database, ttl_seconds: int) -> Deduper:
    return RedisDeduper(redis_url, ttl_seconds) if redis_url else DbDeduper(db, ttl_seconds)


def delivery_id(fields: dict[str, str]) -> str:
    """MsgId for messages; sender + time (+ event) for events, which have no id."""
    if fields.get("MsgId"):
        return "msg:" + fields["MsgId"]
    return "event:{}:{}:{}:{}".format(
        fields.get("FromUserName", ""),
        fields.get("CreateTime", ""),
        fields.get("Event", ""),
        fields.get("EventKey", ""),
    )
