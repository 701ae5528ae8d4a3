"""Messaging channels other than the web chat (Telegram; WeChat lives beside it).

``start``/``stop`` run them, and the outbound worker, with the gateway process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from kb import mail

if TYPE_CHECKING:
    from bot.state import AppState

log = logging.getLogger("refdesk.channels")


async def start(state: AppState) -> None:
    """Start the configured channels and the outbound worker with the gateway."""
    from bot.outbound import ChannelSender
    from bot.outbound.service import OutboundService
    from bot.outbound.web import WebSender

    settings = state.settings
    if settings.outbound_enabled:
        senders: list[ChannelSender] = [WebSender(state.hub)]
        if state.wechat is not None:
            from bot.channels.wechat.sender import WeChatSender

            senders.append(WeChatSender(state.wechat.api))
        if mail.configured(settings):
            from bot.outbound.email import EmailSender

            senders.append(EmailSender(settings))
        state.outbound = OutboundService(settings, state.db, senders)
        state.outbound.start()
    if settings.telegram_enabled:
        from bot.channels.telegram.channel import TelegramChannel
        from bot.channels.telegram.handlers import Deps
        from bot.channels.telegram.sender import TelegramSender

        channel = TelegramChannel(settings, Deps(settings, state.db, state.router, state.metrics))
        state.telegram = channel
        channel.start()

        async def plug_in_sender() -> None:
            # Pushes go out on Telegram once the bot is initialised (getMe worked).
            await channel.ready.wait()
            if state.outbound is not None:
                state.outbound.add_sender(TelegramSender(channel.bot))

        state.telegram_plug = asyncio.create_task(plug_in_sender())


async def stop(state: AppState) -> None:
    if state.outbound is not None:
        await state.outbound.stop()
    if state.telegram is not None:
        plug = state.telegram_plug
        if plug is not None:
            plug.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await plug
        await state.telegram.stop()
