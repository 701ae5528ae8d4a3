"""The WeChat official account channel (``/webhooks/wechat``); see docs/wechat-and-linking.md."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from bot.channels.wechat.config import WeChatConfig
from bot.channels.wechat.customer_service import CustomerServiceApi
from bot.channels.wechat.dedupe import deduper_for
from bot.channels.wechat.inflight import InFlight
from bot.channels.wechat.webhook import WeChatChannel, router

log = logging.getLogger("refdesk.wechat")


def install(app: FastAPI) -> None:
    """Add the webhook when the account is configured (REFDESK_WECHAT_TOKEN and _APPID)."""
    state = app.state.refdesk
    config = WeChatConfig.from_settings(state.settings)
    if not config.enabled:
        return
    app.state.wechat = state.wechat = WeChatChannel(
        config=config,
        router=state.router,
        api=CustomerServiceApi(config),
        deduper=deduper_for(state.settings.redis_url, state.db, config.dedupe_seconds),
        inflight=InFlight(keep_seconds=max(60.0, config.dedupe_seconds / 4)),
    )
    app.include_router(router)
    mode = "safe mode" if config.aes_keys else "plain mode"
    log.info("WeChat webhook on /webhooks/wechat (%s)", mode)


async def shutdown(app: FastAPI) -> None:
    channel = getattr(app.state, "wechat", None)
    if channel is not None:
        await channel.close()
