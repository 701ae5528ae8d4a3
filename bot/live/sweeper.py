"""Each gateway checks now and then for chats whose librarian's console went quiet
(closed tab, lost network) longer than the grace period, and returns them to the
queue; chats transferred to a department while nobody is online get the bot back. The move is a conditional update, so two gateways never move a chat twice.
It also sends patrons waiting on Telegram or WeChat a change of place that the update
interval held back."""

from __future__ import annotations

import asyncio
import logging

from bot.live.desk import Desk

log = logging.getLogger("refdesk.live")


async def run_sweeper(desk: Desk) -> None:
    interval = max(0.5, min(5.0, desk.settings.console_grace_seconds / 4))
    while True:
        await asyncio.sleep(interval)
        try:
            moved = await desk.sweep()
            if moved:
                log.info("%d chat(s) back in the queue or back with the bot", moved)
            else:  # places held back by the update interval go out now
                await desk.tell_places()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("live-chat sweep failed")
