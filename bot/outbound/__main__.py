"""``python -m bot.outbound``: the outbound worker alone, without the gateway.

For a dedicated worker machine, and for tests that kill the worker mid-send. It has
no web-chat connections, so it sends on Telegram and e-mail only; pushes for web-only
patrons wait for the gateway's worker.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from bot.db import Database
from bot.outbound import ChannelSender
from bot.outbound.worker import Worker
from kb import mail
from kb.settings import get_settings


async def main() -> None:
    settings = get_settings()
    senders: list[ChannelSender] = []
    bot = None
    if settings.telegram_enabled:
        from bot.channels.telegram.channel import build_application
        from bot.channels.telegram.sender import TelegramSender

        bot = build_application(settings, polling=False).bot
        await bot.initialize()
        senders.append(TelegramSender(bot))
    if mail.configured(settings):
        from bot.outbound.email import EmailSender

        senders.append(EmailSender(settings))
    worker = Worker(settings, Database(settings.database_url), senders)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"outbound worker {worker.id} ready", flush=True)
    try:
        await worker.run(stop)
    finally:
        if bot is not None:
            await bot.shutdown()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(main())
