"""Outbound delivery: drains the ``kb.outbound`` queue to patrons' channels.

A **sender** is all a channel has to provide (Telegram: ``bot.channels.telegram.sender``;
web: ``bot.outbound.web``; WeChat: ``bot.channels.wechat.sender``; e-mail:
``bot.outbound.email``). It is small on purpose::

    class MySender:
        channel = "wechat"          # ChannelIdentity.channel it serves
        idempotent = False          # see below
        supports_buttons = False    # False: buttons arrive as numbered text lines

        def live(self, address: str) -> bool: ...     # reachable right now? (web: a tab open)
        async def send(self, message: Outgoing) -> str | None: ...  # the channel's message id
        async def close(self) -> None: ...

``send`` either returns (the patron has it) or raises one of the four errors below,
which tell the worker what happened to the message:

========================  =================================================================
``SendRetry(after=)``     not delivered, try again later (HTTP 429/5xx, connection refused);
                          ``after`` seconds when the channel said so (Telegram retry_after)
``SendUnreachable``       this identity cannot be reached (bot blocked, unfollowed): it is
                          marked unreachable and the message goes to another channel
``SendRejected``          the channel refuses this message for good (bad request): dead letter
``SendUncertain``         it may or may not have arrived (timeout while reading the answer):
                          never resent automatically; staff decide
========================  =================================================================

Any other exception counts as ``SendUncertain`` (we cannot know how far it got).

``idempotent``: True only if sending the same ``Outgoing.message_id`` twice shows it to
the patron once (a channel-side idempotency key). The worker commits state SENDING
before each send; a SENDING message whose worker died (its lease ran out) is queued
again for an idempotent channel and becomes UNCERTAIN for any other, so a message is
never shown twice. Telegram and WeChat customer-service sends are not idempotent.

Register a sender with ``Worker(..., senders=[...])``; ``bot.outbound.service``
builds the gateway's set from settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from bot.replies import Button


@dataclass(frozen=True)
class Outgoing:
    """One queued message, rendered-independent, addressed to one channel identity."""

    message_id: str  # the outbound row id: stable across retries
    address: str  # the channel's own user/chat id (decrypted ChannelIdentity.external_id)
    text: str
    buttons: tuple[Button, ...] = ()
    language: str | None = None  # "zh" / "en" / None (both)
    kind: str = "system"
    links: tuple[str, ...] = field(default_factory=tuple)
    # E-mail only: subject and extra headers (alerts: List-Unsubscribe, RFC 8058), an
    # HTML alternative and, with consent, the open-tracking image (kb.mail.build).
    email: dict[str, Any] | None = field(default=None, hash=False, compare=False)


class SendError(Exception):
    """Base of what a sender may raise; ``reason`` is kept for staff (last_error)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SendRetry(SendError):
    def __init__(self, reason: str, after: float | None = None, counts: bool = True) -> None:
        super().__init__(reason)
        self.after = after
        # Flow control (429) is not a failure of the message: it does not use up a try.
        self.counts = counts


class SendUnreachable(SendError):
    pass


class SendRejected(SendError):
    pass


class SendUncertain(SendError):
    pass


@runtime_checkable
class ChannelSender(Protocol):
    channel: str
    idempotent: bool
    supports_buttons: bool

    def live(self, address: str) -> bool: ...

    async def send(self, message: Outgoing) -> str | None: ...

    async def close(self) -> None: ...


__all__ = [
    "ChannelSender",
    "Outgoing",
    "SendError",
    "SendRejected",
    "SendRetry",
    "SendUncertain",
    "SendUnreachable",
]
