"""The account's access_token: fetched from cgi-bin/token and kept until it expires.

WeChat issues one token at a time per account (a new one retires the old after a
few minutes), so it is fetched only when missing, near expiry, or refused.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from bot.channels.wechat.config import WeChatConfig
from bot.channels.wechat.errors import WeChatTransientError, error_for

# Renew this long before WeChat's expiry, so a token never dies mid-request.
MARGIN_SECONDS = 300


class AccessTokens:
    def __init__(self, config: WeChatConfig, http: httpx.AsyncClient) -> None:
        self._config = config
        self._http = http
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._expires = 0.0

    def forget(self, token: str) -> None:
        """WeChat refused ``token`` (40001/42001): fetch a new one next time."""
        if self._token == token:
            self._token = None

    async def get(self) -> str:
        async with self._lock:
            if self._token and time.monotonic() < self._expires:
                return self._token
            try:
                resp = await self._http.get(
                    f"{self._config.api_base}/cgi-bin/token",
                    params={
                        "grant_type": "client_credential",
                        "appid": self._config.appid,
                        "secret": self._config.appsecret,
                    },
                )
            except httpx.HTTPError as exc:
                raise WeChatTransientError(-1, f"token request failed: {exc}") from exc
            data = api_json(resp)
            if not data.get("access_token"):
                raise error_for(int(data.get("errcode", -1)), str(data.get("errmsg", "")))
            lifetime = int(data.get("expires_in", 7200))
            self._token = str(data["access_token"])
            self._expires = time.monotonic() + max(60, lifetime - MARGIN_SECONDS)
            return self._token


def api_json(resp: httpx.Response) -> dict:  # type: ignore[type-arg]
    if resp.status_code >= 500:
        raise WeChatTransientError(-1, f"HTTP {resp.status_code}")
    try:
        data = resp.json()
    except ValueError as exc:
        raise WeChatTransientError(-1, f"HTTP {resp.status_code}, not JSON") from exc
    if not isinstance(data, dict):
        raise WeChatTransientError(-1, "unexpected JSON")
    return data
