"""The gateway: one ASGI app for web chat, console, webhooks, API, health and metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse

from bot import (
    alerts,
    channels,
    delivery,
    health,
    limits,
    privacy_export_page,
    privacy_settings_page,
    services,
    texts,
)
from bot.channels import wechat
from bot.channels.telegram import webhook as telegram_webhook
from bot.console import install as install_console
from bot.db import RETRY_AFTER_SECONDS, StorageUnavailable
from bot.live.sweeper import run_sweeper
from bot.state import build_state
from bot.web import chat
from kb.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    state = build_state(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await state.fanout.start()
        await channels.start(state)
        sweeper = asyncio.create_task(run_sweeper(state.desk), name="live-chat-sweeper")
        try:
            yield
        finally:
            sweeper.cancel()
            await channels.stop(state)
            await wechat.shutdown(app)
            await state.close()

    app = FastAPI(title="refdesk gateway", lifespan=lifespan)
    app.state.refdesk = state
    app.include_router(health.router)
    app.include_router(chat.router)
    app.include_router(telegram_webhook.router)
    delivery.install(app)
    limits.install(app, state.limits)
    wechat.install(app)
    alerts.install(app)
    privacy_export_page.install(app)
    privacy_settings_page.install(app)
    services.install(app)
    install_console(app)

    @app.exception_handler(StorageUnavailable)
    async def storage_unavailable(request: Request, _exc: StorageUnavailable) -> JSONResponse:
        # 503 + Retry-After: webhook senders (Telegram, WeChat) deliver the update again,
        # the console keeps the librarian's text; nothing was written.
        language = "zh" if "zh" in request.headers.get("accept-language", "zh")[:5] else "en"
        seconds = RETRY_AFTER_SECONDS
        return JSONResponse(
            {
                "ok": False,
                "code": "storage_unavailable",
                "message": texts.text("storage_unavailable", language, seconds=seconds),
                "retry_after": seconds,
            },
            status_code=503,
            headers={"Retry-After": str(seconds)},
        )

    @app.get("/", include_in_schema=False)
    async def root(request: Request) -> RedirectResponse:
        # Keep the query: links into the chat carry e.g. an OpenURL draft token.
        query = request.url.query
        return RedirectResponse(f"/chat?{query}" if query else "/chat")

    return app
