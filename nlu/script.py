"""Which scripts a text is written in, and width folding (pure: stdlib only)."""

from __future__ import annotations

import unicodedata

# Han ideographs (URO, extensions A-F, compatibility) and Bopomofo: the characters
# that make a message Chinese. Kana and Hangul are not counted.
_CJK_RANGES = (
    (0x3100, 0x312F),  # Bopomofo
    (0x31A0, 0x31BF),  # Bopomofo extended
    (0x3400, 0x4DBF),  # extension A
    (0x4E00, 0x9FFF),  # unified ideographs
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0x20000, 0x2FA1F),  # extensions B-F, compatibility supplement
)

# Full-width ASCII (U+FF01-FF5E) to ASCII, ideographic space to space. One character
# in, one character out, so offsets computed on the folded text hold for the original.
_WIDTH_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def is_cjk(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK_RANGES)


def has_cjk(text: str) -> bool:
    return any(is_cjk(char) for char in text)


def is_latin_letter(char: str) -> bool:
    # Covers accented and full-width Latin letters ("é", "Ｅ") as well as ASCII.
    return char.isalpha() and "LATIN" in unicodedata.name(char, "")


def has_latin(text: str) -> bool:
    return any(is_latin_letter(char) for char in text)


def fold_width(text: str) -> str:
    """Full-width Latin letters, digits and punctuation as their ASCII forms."""
    return text.translate(_WIDTH_FOLD)


def language_of(text: str) -> str | None:
    """ "zh" if the text has a Chinese character, "en" if it has Latin letters and
    none, None when it has neither (emoji, digits, an ISBN alone)."""
    if has_cjk(text):
        return "zh"
    if has_latin(text):
        return "en"
    return None
