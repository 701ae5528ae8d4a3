"""The outbound queue's Telegram sender (the interface is in ``bot.outbound``).

Maps PTB's errors onto what the worker needs to know:

- RetryAfter (429): not delivered; retry after Telegram's retry_after, not a failed try.
- Forbidden (403: blocked, kicked, deactivated) and "chat not found": unreachable.
- BadRequest: this message will never go through: dead letter.
- Connection refused / connect or pool timeout: the request never left: retry.
- An error answer from Telegram (5xx with a body): it did not take it: retry.
- A timeout or broken connection *after* the request was sent: it may have arrived,
  and sendMessage has no idempotency key, so: uncertain (staff decide).
"""

from __future__ import annotations

import functools
from typing import Any

import httpx
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.channels.telegram import CHANNEL, MAX_TEXT
from bot.channels.telegram.flood import GATE, retry_after_seconds
from bot.channels.telegram.keyboards import keyboard
from bot.outbound import (
    Outgoing,
    SendError,
    SendRejected,
    SendRetry,
    SendUncertain,
    SendUnreachable,
)
from bot.outbound.render import split_text, with_links

# The request did not reach Telegram: safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class TelegramSender:
    channel = CHANNEL
    idempotent = False
    supports_buttons = True

    def __init__(self, bot: Any) -> None:
        self.bot = bot  # PTB ExtBot with AIORateLimiter (shared with the live replies)

    def live(self, address: str) -> bool:
        return True  # Telegram delivers to the patron's devices whenever they look

    async def close(self) -> None:
        return None

    async def send(self, message: Outgoing) -> str | None:
        pieces = split_text(with_links(message.text, message.links), MAX_TEXT)
        ids: list[str] = []
        for i, piece in enumerate(pieces):
            markup = keyboard(message.buttons) if i == len(pieces) - 1 else None
            try:
                sent = await GATE.call(
                    functools.partial(
                        self.bot.send_message, int(message.address), piece, reply_markup=markup
                    ),
                    retries=0 if i == 0 else 3,  # a later part must follow the first
                )
            except TelegramError as exc:
                error = classify(exc)
                if ids:  # part of the message is out already: never resend the start
                    raise SendUncertain(
                        f"after {len(ids)} of {len(pieces)} parts: {error.reason}"
                    ) from exc
                raise error from exc
            ids.append(str(sent.message_id))
        return ",".join(ids)


def classify(exc: TelegramError) -> SendError:
    if isinstance(exc, RetryAfter):
        seconds = retry_after_seconds(exc)
        return SendRetry(
            f"429 flood control: retry after {seconds:g}s", after=seconds, counts=False
        )
    if isinstance(exc, Forbidden):
        return SendUnreachable(f"403 {exc.message}")
    if isinstance(exc, ChatMigrated):
        return SendUnreachable(f"group moved to chat {exc.new_chat_id}")
    if isinstance(exc, BadRequest):
        if "chat not found" in exc.message.lower():
            return SendUnreachable(f"400 {exc.message}")
        return SendRejected(f"400 {exc.message}")
    if isinstance(exc, InvalidToken):
        # Our configuration, not the message: keep it, try again in a while.
        return SendRetry(f"token refused: {exc.message}", after=300, counts=False)
    if isinstance(exc, NetworkError):  # includes TimedOut
        cause = exc.__cause__
        if isinstance(cause, _NOT_SENT):
            return SendRetry(f"not sent: {type(cause).__name__}")
        if cause is None or not isinstance(cause, httpx.HTTPError):
            return SendRetry(f"Telegram answered with an error: {exc.message}")
        return SendUncertain(f"{type(cause).__name__} after sending: {exc.message}")
    return SendUncertain(f"{type(exc).__name__}: {exc.message}")
