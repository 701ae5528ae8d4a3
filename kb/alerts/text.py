"""Words of alert items and subscriptions, normalised the same way on both sides.

Chinese text is segmented with jieba (search mode, so 人工智能伦理 also yields
人工智能); other text is case-folded, stripped of diacritics and stemmed
(Snowball English), so "Robots" and "robot" are one term. English word pairs are
kept too, so a two-word keyword ("climate change") matches as a phrase.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import jieba

from kb.catalog.search.analysis import contains_cjk, fold, stem

jieba.setLogLevel(logging.WARNING)

_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[^\W_]+(?:[+#]+|(?:[-'][^\W_]+)*)")
_CJK_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

# Words that never make a useful alert keyword on their own.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "of",
        "on",
        "in",
        "to",
        "for",
        "about",
        "me",
        "my",
        "i",
        "please",
        "new",
        "book",
        "books",
        "title",
        "titles",
        "alert",
        "alerts",
        "notify",
        "notification",
        "notifications",
        "subscribe",
        "subscription",
        "subscriptions",
        "send",
        "tell",
        "let",
        "know",
        "when",
        "arrive",
        "arrivals",
        "arrival",
        "anything",
        "something",
        "any",
        "some",
        "with",
        "or",
        "by",
        "from",
        "is",
        "are",
        "be",
        "it",
        "this",
        "that",
        "want",
        "would",
        "like",
        "get",
        "give",
        "more",
        "topic",
        "topics",
    ]
) | frozenset(
    [
        "的",
        "了",
        "和",
        "与",
        "及",
        "或",
        "我",
        "我们",
        "请",
        "帮",
        "帮我",
        "给",
        "给我",
        "想",
        "要",
        "一下",
        "新书",
        "新",
        "书",
        "图书",
        "订阅",
        "通知",
        "提醒",
        "推送",
        "有",
        "关于",
        "相关",
        "方面",
        "方向",
        "主题",
        "领域",
        "类",
        "类的",
        "告诉",
        "新到",
        "到馆",
        "上架",
        "一个",
        "时候",
        "话",
        "麻烦",
    ]
)


@lru_cache(maxsize=100_000)
def _segment(run: str) -> tuple[str, ...]:
    return tuple(w for w in jieba.cut_for_search(run) if w.strip())


def tokens(text: str) -> list[str]:
    """Normalised tokens in order: jieba words for Chinese runs, stems for the rest."""
    out: list[str] = []
    for piece in _WORD.findall(fold(text or "")):
        if _CJK_WORD.fullmatch(piece):
            out.extend(_segment(piece))
        else:
            out.append(stem(piece))
    return out


def terms(text: str) -> set[str]:
    """Every term an item can be found by: tokens plus adjacent non-Chinese pairs."""
    found: set[str] = set()
    for piece in re.split(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+", fold(text or "")):
        words = [stem(w) for w in _WORD.findall(piece)]
        found.update(words)
        found.update(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
    for run in _CJK_WORD.findall(text or ""):
        found.update(_segment(run))
        found.add(run)
    return found


def keyword_key(keyword: str) -> str | None:
    """The normalised form a free keyword is stored and matched by, or None when
    nothing meaningful is left. Multi-word English keywords keep their order."""
    if contains_cjk(keyword):
        runs = _CJK_WORD.findall(keyword)
        joined = "".join(runs)
        words = [w for w in _segment(joined) if w not in STOPWORDS] if joined else []
        if not words:
            return None
        return joined if len(words) > 1 or words[0] == joined else words[0]
    words = [w for w in _WORD.findall(fold(keyword)) if w not in STOPWORDS]
    if not words or all(len(w) < 2 for w in words):
        return None
    return " ".join(stem(w) for w in words)


def keyword_parts(key: str) -> list[str]:
    """The terms an item must have for a stored keyword to match it."""
    if contains_cjk(key):
        return [key]
    words = key.split()
    if len(words) <= 2:
        return [" ".join(words)]
    return [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
