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

# More request and function words (kept as text: easy to extend).
STOPWORDS |= frozenset(
    [
        "的话",
        "就",
        "吧",
        "呢",
        "啊",
        "到",
        "时",
        "请问",
        "能",
        "能不能",
        "可以",
        "以后",
        "记得",
        "谢谢",
        "新进",
        "资源",
        "文献",
        "期刊",
        "通报",
        "速递",
        "开通",
        "开启",
        "设置",
        "添加",
        "加",
        "关注",
        "叫",
        "发",
        "消息",
        "第一",
        "第一时间",
        "进馆",
        "上新",
        "作者",
        "出版",
        "新的",
        "那",
        "这",
        "些",
        "什么",
        "开",
        "订",
        "每周",
        "每天",
        "每月",
        "清单",
        "收到",
        "推给",
        "推",
        "发给",
        "给我发",
        "我要",
        "我加",
        "我订",
        "不能",
        "新刊",
        "上架",
        "书上架",
        "书上",
        "架",
        "类图书",
        "时间",
        "有关",
        "刊",
        "进",
        "了",
        "到了",
        "出来",
        "一下",
        "相关的",
        "方面的",
    ]
)
STOPWORDS |= frozenset(
    [
        "can",
        "could",
        "you",
        "i",
        "i'd",
        "i'm",
        "we",
        "up",
        "sign",
        "set",
        "put",
        "keep",
        "post",
        "posted",
        "ping",
        "watch",
        "turn",
        "enable",
        "add",
        "track",
        "follow",
        "notify",
        "notified",
        "updates",
        "update",
        "stuff",
        "arrive",
        "arrives",
        "come",
        "comes",
        "coming",
        "out",
        "in",
        "there",
        "has",
        "have",
        "week",
        "weekly",
        "month",
        "monthly",
        "daily",
        "list",
        "acquisitions",
        "acquisition",
        "email",
        "mail",
        "alert",
        "issue",
        "issues",
        "be",
        "being",
        "get",
        "got",
        "sure",
        "them",
        "they",
        "their",
        "on",
        "off",
        "whenever",
        "every",
        "as",
        "soon",
        "possible",
        "kindly",
        "pls",
        "plz",
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


def cjk_phrases(text: str) -> list[str]:
    """Runs of Chinese words left when function and request words are taken out:
    "有东野圭吾的新书就提醒我" → ["东野圭吾"]."""
    phrases: list[str] = []
    for run in _CJK_WORD.findall(text or ""):
        current: list[str] = []
        for word in jieba.lcut(run):
            if word in STOPWORDS:
                if current:
                    phrases.append("".join(current))
                current = []
            else:
                current.append(word)
        if current:
            phrases.append("".join(current))
    return [p for p in phrases if len(p) >= 2]


def keyword_key(keyword: str) -> str | None:
    """The normalised form a free keyword is stored and matched by, or None when
    nothing meaningful is left. Multi-word English keywords keep their order."""
    if contains_cjk(keyword):
        phrases = cjk_phrases(keyword)
        return max(phrases, key=len) if phrases else None
    words = [w for w in _WORD.findall(fold(keyword)) if w not in STOPWORDS]
    if not words or all(len(w) < 2 for w in words):
        return None
    return " ".join(stem(w) for w in words)


def keyword_parts(key: str) -> list[str]:
    """The terms an item must have for a stored keyword to match it."""
    if contains_cjk(key):
        # Every search-mode word of it (an item's text is segmented the same way).
        return list(dict.fromkeys(_segment(key))) or [key]
    words = key.split()
    if len(words) <= 2:
        return [" ".join(words)]
    return [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
