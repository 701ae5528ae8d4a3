"""Cleaning what a patron typed before anything else sees it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# C0/C1 control characters except tab and newline; zero-width and bidi controls
# that can hide text in the console.
_CONTROLS = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)


@dataclass(frozen=True)
class PatronText:
    text: str  # what is kept and understood
    original_length: int  # characters before cutting
    truncated: bool

    @property
    def empty(self) -> bool:
        return not self.text.strip()


def clean(raw: str, limit: int) -> PatronText:
    text = unicodedata.normalize("NFC", raw)
    text = _CONTROLS.sub("", text).replace("\r\n", "\n").replace("\r", "\n").strip()
    length = len(text)
    if length > limit:
        return PatronText(text=text[:limit], original_length=length, truncated=True)
    return PatronText(text=text, original_length=length, truncated=False)
