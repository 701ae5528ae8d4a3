"""Rendering a queued message for what a channel can show.

Buttons become real buttons where the channel has them (Telegram inline keyboards,
web chat buttons); on text-only channels they become numbered lines the patron can
answer with the number. Long texts are split where the channel has a length limit.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.replies import Button
from kb.language import pick


def numbered(text: str, buttons: Sequence[Button], language: str | None) -> str:
    """``text`` followed by "1. title" lines and a hint to reply with a number."""
    if not buttons:
        return text
    lines = [text, ""]
    lines += [f"{i}. {b.title}" for i, b in enumerate(buttons, start=1)]
    lines.append(pick(language, "（回复数字即可选择）", "(reply with a number to choose)"))
    return "\n".join(lines)


def with_links(text: str, links: Sequence[str]) -> str:
    missing = [link for link in links if link not in text]
    return "\n".join([text, *missing]) if missing else text


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at a line break or space when possible."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest or not pieces:
        pieces.append(rest)
    return pieces
