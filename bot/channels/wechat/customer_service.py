"""Sending a text to a patron through WeChat's customer-service message API
(cgi-bin/message/custom/send), for replies that are not ready within WeChat's
5-second window and for anything sent later (librarian replies, notices).

``send_text`` is what the outbound worker calls. It raises:
  OutsideReplyWindow   45015, the patron has not written within 48 hours: keep the
                       message for staff, it may be sent when the patron writes again
  PatronUnreachable    unsubscribed / unknown openid: mark the identity unreachable
  WeChatTransientError network, WeChat busy, rate limit: retry later with backoff
  WeChatConfigError    wrong AppID/AppSecret, IP not whitelisted: an admin must act
  WeChatApiError       anything else WeChat refuses
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

import httpx

from bot.channels.wechat.access_token import AccessTokens, api_json
from bot.channels.wechat.config import WeChatConfig
from bot.channels.wechat.errors import (
    TOKEN_REFUSED,
    OutsideReplyWindow,
    PatronUnreachable,
    WeChatApiError,
    WeChatConfigError,
    WeChatTransientError,
    error_for,
)
from bot.channels.wechat.render import numbered, split
from bot.replies import Button
from kb.settings import get_settings

__all__ = [
    "CustomerServiceApi",
    "OutsideReplyWindow",
    "PatronUnreachable",
    "WeChatApiError",
    "WeChatConfigError",
    "WeChatTransientError",
    "default_api",
    "send_text",
]


class CustomerServiceApi:
    def __init__(self, config: WeChatConfig, http: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(config.api_timeout))
        self.tokens = AccessTokens(config, self._http)

    async def close(self) -> None:
        await self._http.aclose()

    async def send_text(
        self,
        openid: str,
        text: str,
        buttons: Sequence[Button | Mapping[str, str]] = (),
        language: str | None = None,
    ) -> int:
        """Send ``text`` (buttons as numbered lines); returns how many messages it took."""
        rendered = numbered(text, [_button(b) for b in buttons], language)
        pieces = split(rendered)
        for piece in pieces:
            await self._send_one(openid, piece)
        return len(pieces)

    async def _send_one(self, openid: str, content: str) -> None:
        body: dict[str, object] = {
            "touser": openid,
            "msgtype": "text",
            "text": {"content": content},
        }
        for attempt in (1, 2):
            token = await self.tokens.get()
            try:
                resp = await self._http.post(
                    f"{self.config.api_base}/cgi-bin/message/custom/send",
                    params={"access_token": token},
                    # WeChat wants the text as UTF-8, not \u escapes.
                    content=_dumps(body),
                    headers={"Content-Type": "application/json; charset=utf-8"},
                )
            except httpx.HTTPError as exc:
                raise WeChatTransientError(-1, f"send failed: {exc}") from exc
            data = api_json(resp)
            errcode = int(data.get("errcode", 0))
            if errcode == 0:
                return
            if errcode in TOKEN_REFUSED and attempt == 1:
                self.tokens.forget(token)  # expired early or replaced elsewhere: once more
                continue
            raise error_for(errcode, str(data.get("errmsg", "")))


def _dumps(body: dict[str, object]) -> bytes:
    import json

    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _button(b: Button | Mapping[str, str]) -> Button:
    return b if isinstance(b, Button) else Button(title=b["title"], payload=b.get("payload", ""))


@lru_cache(maxsize=1)
def default_api() -> CustomerServiceApi:
    """One client per process, so the access_token is shared."""
    return CustomerServiceApi(WeChatConfig.from_settings(get_settings()))


async def send_text(
    openid: str,
    text: str,
    buttons: Sequence[Button | Mapping[str, str]] = (),
    *,
    language: str | None = None,
    api: CustomerServiceApi | None = None,
) -> int:
    """Send a text to ``openid``; see the module docstring for the exceptions."""
    return await (api or default_api()).send_text(openid, text, buttons, language)
