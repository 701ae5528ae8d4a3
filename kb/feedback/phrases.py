"""Feedback written in the same message that asks to leave it.

"投诉：三楼太吵了", "我要投诉 三楼太吵了", "complaint: the wifi keeps dropping" carry the
feedback already, so the bot should keep it rather than ask for it again. A message
that only asks ("我要投诉", "how do I file a complaint?") carries nothing to keep.
"""

from __future__ import annotations

import re

from kb.feedback.models import FeedbackKind
from kb.feedback.service import guess_kind

# The words that introduce feedback, and the kind each one announces (None: guess it).
_TRIGGER_KINDS: list[tuple[str, FeedbackKind | None]] = [
    (r"投诉|吐槽|complaints?|complain(?:ing)?(?: about)?", FeedbackKind.COMPLAINT),
    (r"建议|suggestions?|suggest", FeedbackKind.SUGGESTION),
    (r"表扬|点赞|夸一?夸|夸一下|praise|compliments?|kudos(?: to)?", FeedbackKind.PRAISE),
    (r"反馈|意见|留言|feedback|comments?", None),
]
_TRIGGER = re.compile(
    r"^\s*(?:"
    # Chinese: 我要投诉 / 我想提个建议 / 给你们提点意见 / 反馈一下
    r"(?:我(?:想|要|来)?(?:要)?)?(?:给你们|跟你们)?(?:有(?:个|一个|一些|点)|提(?:个|点|一些|一个)?)?"
    r"(?P<zh>" + "|".join(t for t, _ in _TRIGGER_KINDS[:]) + r")(?:一下)?"
    r")"
    r"(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_TRIGGER_EN = re.compile(
    r"^\s*(?:i\s*(?:\s+have|\s+want\s+to\s+(?:make|leave|give|file|submit)|'?d\s+like\s+to"
    r"\s+(?:make|leave|give|file|submit))\s+(?:a\s+|an\s+|some\s+)?)?"
    r"(?:(?:a|one|small|quick)\s+)*"
    r"(?P<zh>" + "|".join(t for t, _ in _TRIGGER_KINDS) + r")\b"
    r"(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
# Asking how or where to leave feedback is not feedback.
_QUESTION = re.compile(
    r"[?？]\s*$|吗\s*$|怎么|如何|哪里|在哪|什么|电话|邮箱|渠道"
    r"|^\s*(?:how|where|who|what|can|could|may|is|are|do)\b",
    re.IGNORECASE,
)
_SEPARATORS = " \t\r\n:：,，.。;；!！-—–~、"
_ABOUT = re.compile(r"^(?:about|regarding|on|关于)\s*", re.IGNORECASE)
_ANY_TRIGGER = re.compile("|".join(t for t, _ in _TRIGGER_KINDS), re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[A-Za-z0-9]{2,}")


def _substantial(text: str) -> bool:
    """Enough to be feedback by itself: three Chinese characters ("太吵了") or two words."""
    return len(_CJK.findall(text)) >= 3 or len(_WORD.findall(text)) >= 2


def _kind_of(trigger: str) -> FeedbackKind | None:
    for pattern, kind in _TRIGGER_KINDS:
        if re.fullmatch(pattern, trigger, re.IGNORECASE):
            return kind
    return None


def feedback_in_message(text: str) -> tuple[str, FeedbackKind] | None:
    """The feedback a message carries and its kind, or None if it only asks to leave some."""
    text = (text or "").strip()
    if not text or text.startswith("/") or _QUESTION.search(text):
        return None
    match = _TRIGGER.match(text) or _TRIGGER_EN.match(text)
    if match:
        rest = _ABOUT.sub("", match.group("rest").strip(_SEPARATORS)).strip(_SEPARATORS)
        if not _substantial(rest):
            return None
        kind = _kind_of(match.group("zh")) or guess_kind(rest)
        # "投诉：…" labels the text; "表扬一下昨天的值班老师" reads best whole.
        labelled = re.match(r"\s*[:：\-—–]", match.group("rest"))
        return (rest if labelled else text), kind
    # No trigger word: "三楼空调太冷了" is feedback when it says what kind it is. A trigger
    # word elsewhere ("有个建议", "this is my complaint") means they are about to write it.
    kind = guess_kind(text)
    if kind is FeedbackKind.OTHER or _ANY_TRIGGER.search(text) or not _substantial(text):
        return None
    return text, kind
