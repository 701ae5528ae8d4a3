"""Text analysis shared by indexing and querying, identical on both backends.

Chinese (and Japanese/Korean) text has no spaces, so each run of CJK characters becomes
its overlapping character bigrams plus its last character: "三体全集" → 三体 体全 全集 集.
A query for 三体 is then the phrase of its bigrams and matches inside any longer run,
and a one-character query matches as a prefix. Other scripts are split into words,
case-folded, stripped of diacritics and (English) stemmed, so "Libraries" finds
"library". The output tokens hold only letters and digits: nothing a user types can
reach the FTS5 or tsquery syntax.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

_CJK = (
    "\u3040-\u30ff"  # kana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
    "\uac00-\ud7af"  # hangul syllables
    "\U00020000-\U0003134f"
)
_CJK_RUN = re.compile(f"[{_CJK}]+")
# A word: letters/digits that are not CJK (underscore is \w but not a letter).
_TOKEN = re.compile(f"[{_CJK}]+|(?:(?![{_CJK}_])\\w)+")
_TOKEN_KIND = re.compile(f"([{_CJK}]+)|((?:(?![{_CJK}_])\\w)+)")
# Letters that carry diacritics (Latin, Greek, Cyrillic, Vietnamese); CJK text has none.
_DECOMPOSABLE = re.compile("[\u00c0-\u04ff\u1e00-\u1fff]")
_CJK_GAP = re.compile(f"(?<=[{_CJK}])\\s+(?=[{_CJK}])")
_STEMMER = Stemmer.Stemmer("english")


def close_cjk_gaps(text: str) -> str:
    """ "百万 国民党军 起义" → "百万国民党军起义"."""
    return _CJK_GAP.sub("", text)


def fold(text: str) -> str:
    """NFKC (full-width → ASCII), case-fold, drop combining marks."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if text.isascii() or not _DECOMPOSABLE.search(text):
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def is_cjk(text: str) -> bool:
    return bool(_CJK_RUN.fullmatch(text))


def contains_cjk(text: str) -> bool:
    return bool(_CJK_RUN.search(text))


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _STEMMER.stemWord(word) if word.isascii() and word.isalpha() else word


def cjk_tokens(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)] + [run[-1]]


def words(text: str) -> list[str]:
    """Folded words and CJK runs, unstemmed (for phrases the user wrote and for the
    spelling vocabulary)."""
    return _TOKEN.findall(fold(text or ""))


def index_tokens(text: str) -> list[str]:
    """Tokens to index for a field value, in order (positions matter for phrases).

    Spaces between Chinese characters in catalog data ("百万 国民党军 起义", common in
    romanisation-era records) are cataloguing practice, not word breaks a patron
    would type, so they are closed up first."""
    return list(index_token_tuple(text or ""))


# Names, subjects and publishers repeat across a catalog: analyse each once per import.
@lru_cache(maxsize=100_000)
def index_token_tuple(text: str) -> tuple[str, ...]:
    """``index_tokens`` as a tuple, remembered per text (for indexing many records)."""
    tokens: list[str] = []
    # Same split as ``words``, but the groups say which kind each token is.
    for run, word in _TOKEN_KIND.findall(fold(close_cjk_gaps(text))):
        if run:
            tokens.extend(cjk_tokens(run))
        else:
            tokens.append(stem(word))
    return tuple(tokens)


def query_units(text: str) -> list[list[str]]:
    """A query string as units that must each match: one unit per Latin word (its stem)
    and one per CJK run (the phrase of its bigrams; a lone character is a prefix, see
    ``is_prefix_unit``)."""
    units: list[list[str]] = []
    for word in words(text):
        if is_cjk(word):
            units.append([word] if len(word) == 1 else cjk_tokens(word)[:-1])
        else:
            units.append([stem(word)])
    return units


def is_prefix_unit(unit: list[str]) -> bool:
    """A single CJK character is matched as a prefix of the bigrams that start with it."""
    return len(unit) == 1 and len(unit[0]) == 1 and is_cjk(unit[0])
