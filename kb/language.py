"""Which language a patron wrote in.

The same rule runs inside the Rasa engine (nlu/components/language.py, which
cannot import kb/): zh if the text has a CJK character, en if it has Latin
letters, otherwise unknown (emoji, digits, an ISBN alone).
"""

from __future__ import annotations

import re

LANGUAGES = ("zh", "en")

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]")
_LATIN = re.compile(r"[A-Za-z]")


def detect_language(text: str) -> str | None:
    if _CJK.search(text):
        return "zh"
    if _LATIN.search(text):
        return "en"
    return None


def pick(language: str | None, zh: str, en: str) -> str:
    """The text for the patron's language; both when the language is unknown."""
    if language == "zh":
        return zh
    if language == "en":
        return en
    return f"{zh}\n{en}"
