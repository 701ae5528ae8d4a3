"""The WeChat settings the webhook and the API client need, checked once."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.channels.wechat.crypto import decode_aes_key
from kb.settings import Settings


@dataclass(frozen=True)
class WeChatConfig:
    token: str
    appid: str
    appsecret: str
    # Current key first, then the previous one while WeChat switches over.
    aes_keys: list[bytes] = field(default_factory=list)
    api_base: str = "https://api.weixin.qq.com"
    api_timeout: float = 5.0
    timestamp_window: int = 300
    passive_seconds: float = 4.5
    max_body_bytes: int = 64 * 1024
    dedupe_seconds: int = 600
    menu: dict[str, str] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return bool(self.token and self.appid)

    @classmethod
    def from_settings(cls, s: Settings) -> WeChatConfig:
        spec = s.wechat_aes_keys.get_secret_value() or s.wechat_aes_key.get_secret_value()
        try:
            keys = [decode_aes_key(k.strip()) for k in spec.split(",") if k.strip()]
        except ValueError as exc:
            raise ValueError(f"REFDESK_WECHAT_AES_KEY(S): {exc}") from exc
        return cls(
            token=s.wechat_token.get_secret_value(),
            appid=s.wechat_appid,
            appsecret=s.wechat_appsecret.get_secret_value(),
            aes_keys=keys,
            api_base=s.wechat_api_base.rstrip("/"),
            api_timeout=s.wechat_api_timeout_seconds,
            timestamp_window=s.wechat_timestamp_window_seconds,
            passive_seconds=s.wechat_passive_reply_seconds,
            max_body_bytes=s.wechat_max_body_bytes,
            dedupe_seconds=s.wechat_dedupe_seconds,
            menu=dict(s.wechat_menu),
        )
