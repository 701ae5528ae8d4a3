"""The web chat as an outbound channel: a push reaches every open tab of the patron's
session through the hub, and joins the transcript (the worker records it as sent),
so a patron with no tab open sees it in the history when they come back."""

from __future__ import annotations

from typing import Any

from bot.hub import Hub
from bot.live.steps import patron_key
from bot.outbound import Outgoing
from bot.outbound.render import with_links
from kb.patrons import sender_id

CHANNEL = "web"


def tab_key(address: str) -> str:
    """The hub key the patron's open tabs listen on (see bot/web/chat.py)."""
    return patron_key(sender_id(CHANNEL, address))


class WebSender:
    channel = CHANNEL
    idempotent = False  # a tab that got it live would show it twice
    supports_buttons = True

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def live(self, address: str) -> bool:
        return self.hub.connected(tab_key(address))

    async def send(self, message: Outgoing) -> str | None:
        frame: dict[str, Any] = {
            "type": "message",
            "speaker": "bot",
            "text": with_links(message.text, message.links),
            "push": message.kind,
        }
        if message.buttons:
            frame["buttons"] = [{"title": b.title, "payload": b.payload} for b in message.buttons]
        await self.hub.publish(tab_key(message.address), frame)
        return None

    async def close(self) -> None:
        return None
