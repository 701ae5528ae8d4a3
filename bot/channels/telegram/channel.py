"""Running the Telegram channel inside the gateway: long polling or a webhook.

Polling (no REFDESK_TELEGRAM_WEBHOOK_URL) needs no public address, so it is what
development and `refdesk up` on a laptop use; PTB deletes any webhook first.
With REFDESK_TELEGRAM_WEBHOOK_URL the gateway registers that URL with a secret
token and Telegram POSTs updates to ``/webhooks/telegram`` (see ``webhook``).

Starting never blocks or kills the gateway: if Telegram cannot be reached (or the
token is wrong) the channel keeps retrying in the background and the web chat works.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot.channels.telegram import handlers
from kb.settings import Settings

log = logging.getLogger("refdesk.telegram")

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


def webhook_secret(settings: Settings) -> str:
    """The X-Telegram-Bot-Api-Secret-Token value: from settings, else kept in var/."""
    configured = settings.telegram_webhook_secret.get_secret_value()
    if configured:
        return configured
    path = settings.home / "telegram-webhook.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))  # Telegram allows A-Z a-z 0-9 _ -
        path.chmod(0o600)
    return path.read_text().strip()


def rate_limiter(settings: Settings) -> AIORateLimiter:
    # Overall and per-group flood limits. A 429 comes back to the caller (max_retries=0):
    # ``flood.GATE`` pauses every request for retry_after, then live replies try again
    # and the outbound worker reschedules the push. Per private chat pacing of pushes
    # is the outbound worker's job (PTB has none).
    # aiolimiter is a leaky bucket: with capacity N it lets a burst of N through and
    # then N per period, so "30 per 1 s" could send ~60 in one second and "20 per
    # 60 s" 40 in a minute. A bucket of one, leaking at the limit, spaces requests
    # evenly and never exceeds the limit in any window.
    return AIORateLimiter(
        overall_max_rate=1,
        overall_time_period=1 / settings.telegram_overall_per_second,
        group_max_rate=1,
        group_time_period=60 / settings.telegram_group_per_minute,
        max_retries=0,
    )


def build_application(settings: Settings, polling: bool) -> Application:  # type: ignore[type-arg]
    builder: Any = (
        ApplicationBuilder()
        .token(settings.telegram_token.get_secret_value())
        .base_url(settings.telegram_api_base)
        .base_file_url(settings.telegram_api_base.replace("/bot", "/file/bot", 1))
        .rate_limiter(rate_limiter(settings))
        # Chats are independent: a slow answer in one must not hold up the others;
        # the Router's per-conversation lock keeps each chat in order.
        .concurrent_updates(True)
        .connection_pool_size(64)
    )
    if not polling:
        builder = builder.updater(None)
    app: Application = builder.build()  # type: ignore[type-arg]
    return app


class TelegramChannel:
    def __init__(self, settings: Settings, deps: handlers.Deps) -> None:
        self.settings = settings
        self.polling = not settings.telegram_webhook_url
        self.application = build_application(settings, self.polling)
        handlers.install(self.application, deps)
        self.secret = "" if self.polling else webhook_secret(settings)
        self.ready = asyncio.Event()
        self._starter: asyncio.Task[None] | None = None

    @property
    def bot(self) -> Any:
        return self.application.bot

    def start(self) -> None:
        self._starter = asyncio.create_task(self._start_with_retry())

    async def _start_with_retry(self) -> None:
        delay = 1.0
        while True:
            try:
                await self._start_once()
                self.ready.set()
                return
            except InvalidToken:
                log.error("Telegram refused REFDESK_TELEGRAM_TOKEN; the Telegram channel is off")
                return
            except (TelegramError, OSError) as exc:
                log.warning("Telegram not reachable (%s); retrying in %.0fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60)

    async def _start_once(self) -> None:
        app = self.application
        if not app._initialized:  # getMe: also learns the bot's username for mentions
            await app.initialize()
        if self.polling:
            assert app.updater is not None
            await app.updater.start_polling(
                allowed_updates=ALLOWED_UPDATES,
                timeout=self.settings.telegram_poll_timeout_seconds,
                poll_interval=0.0,
            )
        else:
            await app.bot.set_webhook(
                self.settings.telegram_webhook_url,
                secret_token=self.secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        await app.start()
        log.info(
            "Telegram channel @%s running (%s)",
            app.bot.username,
            "long polling" if self.polling else "webhook " + self.settings.telegram_webhook_url,
        )

    async def feed(self, data: dict[str, Any]) -> None:
        """A webhook update: hand it to PTB's queue (answered asynchronously)."""
        update = Update.de_json(data, self.application.bot)
        await self.application.update_queue.put(update)

    async def stop(self) -> None:
        if self._starter is not None and not self._starter.done():
            self._starter.cancel()
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        if app._initialized:
            await app.shutdown()
