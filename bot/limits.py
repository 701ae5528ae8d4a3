"""Abuse limits: messages per patron, requests per client address, open chat sockets
per address, and the security headers every response carries.

Counters live in Redis when `REFDESK_REDIS_URL` is set, so several gateways behind
one address share them; otherwise in this process. Moving windows (the `limits`
library) rather than fixed ones: a burst at a window edge cannot double the rate.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from bot import texts
from bot.alerts import pixel
from kb.settings import Settings

# Paths a stranger can hit without a chat session: link resolvers, APIs, downloads,
# alert links, console sign-in. Not channel webhooks: Telegram and WeChat send every
# patron's messages from a few addresses, and their signatures authenticate them.
_LIMITED_PREFIXES = (
    "/api/",
    "/openurl",
    "/delivery/files/",
    "/alerts/",
    "/privacy/",
    "/console/login",
)
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def client_address(host: str | None) -> str:
    return host or "unknown"


class Limits:
    def __init__(self, settings: Settings) -> None:
        url = (
            settings.redis_url.replace("redis://", "async+redis://", 1)
            if settings.redis_url
            else "async+memory://"
        )
        options = {"implementation": "redispy"} if settings.redis_url else {}
        self._limiter = MovingWindowRateLimiter(storage_from_string(url, **options))
        # Gateways sharing a database are one desk and share counters; another desk on
        # the same Redis does not.
        self._desk = hashlib.sha256(settings.database_url.encode()).hexdigest()[:12]
        self.patron_messages: RateLimitItem = parse(settings.limit_patron_messages)
        self.client_requests: RateLimitItem = parse(settings.limit_client_requests)
        self.max_sockets_per_client = settings.limit_sockets_per_client
        self._sockets: Counter[str] = Counter()

    async def _retry_after(self, item: RateLimitItem, *ids: str) -> int | None:
        """None when the hit is allowed, else the seconds until it would be."""
        try:
            if await self._limiter.hit(item, *ids):
                return None
            stats = await self._limiter.get_window_stats(item, *ids)
        except Exception:  # noqa: BLE001 - a broken counter store must not stop the desk
            return None
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def message_allowed(self, patron_key: str) -> int | None:
        return await self._retry_after(self.patron_messages, self._desk, "patron", patron_key)

    async def request_allowed(self, address: str) -> int | None:
        return await self._retry_after(self.client_requests, self._desk, "client", address)

    def open_socket(self, address: str) -> bool:
        """Count a chat socket of this address; False when it has too many open."""
        if self._sockets[address] >= self.max_sockets_per_client:
            return False
        self._sockets[address] += 1
        return True

    def close_socket(self, address: str) -> None:
        self._sockets[address] -= 1
        if self._sockets[address] <= 0:
            del self._sockets[address]


def _too_many(request: Request, retry_after: int) -> Response:
    language = "zh" if "zh" in request.headers.get("accept-language", "zh")[:5] else "en"
    return JSONResponse(
        {
            "error": "rate_limited",
            "message": texts.text("rate_limited", language, seconds=retry_after),
            "retry_after": retry_after,
        },
        status_code=429,
        headers={"Retry-After": str(retry_after)},
    )


def install(app, limits: Limits) -> None:  # type: ignore[no-untyped-def]
    @app.middleware("http")
    async def limit_and_secure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.url.path.startswith(_LIMITED_PREFIXES):
            address = client_address(request.client.host if request.client else None)
            retry_after = await limits.request_allowed(address)
            if retry_after is not None:
                # A mail client shows an e-mail alert's image, never an error; over the
                # limit the open is just not counted.
                if request.url.path.startswith(pixel.PREFIX):
                    return pixel.image()
                return _too_many(request, retry_after)
        response = await call_next(request)
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response
