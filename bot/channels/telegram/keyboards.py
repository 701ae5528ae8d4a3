"""Rasa buttons as Telegram inline keyboards.

Telegram limits callback data to 64 bytes, and Rasa payloads with entities
(``/search{"query": "..."}``) can be longer. Short payloads travel as
``p:<payload>``; longer ones as ``h:<hash>``, which the click handler looks up
among the payloads recently offered in that conversation (the transcript keeps
them), so no extra table is needed and a forged hash matches nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.replies import Button

MAX_CALLBACK_BYTES = 64


def payload_hash(payload: str) -> str:
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def callback_data(payload: str) -> str:
    direct = "p:" + payload
    if len(direct.encode("utf-8")) <= MAX_CALLBACK_BYTES:
        return direct
    return "h:" + payload_hash(payload)


def keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """One button per row: titles are often long (book titles)."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.title[:64] or "?", callback_data=callback_data(b.payload))]
            for b in buttons
        ]
    )


def resolve(data: str, offered: Iterable[str]) -> str | None:
    """The payload behind callback data, or None if it was never offered."""
    if data.startswith("p:"):
        return data[2:]
    if data.startswith("h:"):
        wanted = data[2:]
        return next((p for p in offered if payload_hash(p) == wanted), None)
    return None


def title_of(markup: InlineKeyboardMarkup | None, data: str) -> str | None:
    """The title of the clicked button, read from the message it was attached to."""
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None
