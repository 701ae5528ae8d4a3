"""Replies as WeChat text: WeChat has no buttons for an account's messages, so
buttons become numbered lines and the patron answers with the number."""

from __future__ import annotations

from collections.abc import Sequence

from bot.replies import Button, Reply
from kb.language import pick

# WeChat cuts text messages at 2048 bytes; stay under it.
MAX_TEXT_BYTES = 2000


def numbered(text: str, buttons: Sequence[Button], language: str | None) -> str:
    if not buttons:
        return text
    lines = [text] if text else []
    lines += [f"{i}. {b.title}" for i, b in enumerate(buttons, 1)]
    lines.append(pick(language, "（回复数字选择）", "(Reply with a number to choose.)"))
    return "\n".join(lines)


def as_text(replies: Sequence[Reply], language: str | None) -> str:
    """All replies of one turn as one message (a passive reply carries only one)."""
    return "\n\n".join(
        numbered(r.text, r.buttons, language) for r in replies if r.text or r.buttons
    )


def last_buttons(replies: Sequence[Reply]) -> list[Button]:
    for r in reversed(replies):
        if r.buttons:
            return list(r.buttons)
    return []


def split(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """Pieces of at most ``limit`` UTF-8 bytes, cut at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line.encode()) > limit:  # one very long line: cut by characters
            cut = len(line)
            while len(line[:cut].encode()) > limit:
                cut -= max(1, (len(line[:cut].encode()) - limit) // 3)
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = line[cut:]
        if len((current + line).encode()) > limit:
            pieces.append(current)
            current = ""
        current += line
    if current:
        pieces.append(current)
    return [p.strip("\n") for p in pieces if p.strip()]
