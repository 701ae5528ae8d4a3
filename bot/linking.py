"""The link command: "link my account" / "绑定账号" and typing the code it gives.

Handled by the gateway before the engine, like a command, not by a Rasa intent:
the phrases are fixed and few, so matching them needs no model (and no retrain);
the code is a secret and never reaches the engine's tracker store; a wrong guess
must be counted in the same database transaction that checks it; and linking
keeps working while the engine is down. Every channel gets it through the Router.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.replies import Reply
from kb.conversations import Speaker, conversation_for, record_message
from kb.language import detect_language, pick
from kb.patrons import identity_for
from kb.patrons.linking import (
    Outcome,
    TooManyCodes,
    any_live_code,
    issue_code,
    normalise_code,
    redeem_code,
)
from kb.settings import get_settings

_REQUEST = re.compile(
    r"^\s*(?:/link|link\s+(?:my\s+)?accounts?|link\s+my\s+channels|connect\s+my\s+accounts?"
    r"|绑定账号|绑定帐号|关联账号|账号绑定|绑定)\s*[.!。！]?\s*$",
    re.IGNORECASE,
)
# Telegram's deep-link parameter (t.me/<bot>?start=link123456): [A-Za-z0-9_-], ≤ 64.
DEEP_LINK_PREFIX = "link"
_DEEP_LINK = re.compile(r"^link[_-]?(.*)$", re.IGNORECASE)
_REDEEM = re.compile(r"^\s*(?:/link|link|绑定|绑定码)\s*[:：]?\s*(\d{3}[\s-]?\d{3})\s*$", re.I)

CHANNEL_NAMES = {
    "web": ("网页咨询", "web chat"),
    "wechat": ("微信公众号", "WeChat"),
    "telegram": ("Telegram", "Telegram"),
}

TEXTS: dict[str, tuple[str, str]] = {
    "link_code": (
        "您的绑定码是 {code}，{minutes} 分钟内有效，只能使用一次。请在另一个渠道（网页咨询、"
        "微信公众号或 Telegram）发送这 6 位数字，两个渠道就会连在一起，您的留言和申请也会合并。"
        "请勿把绑定码告诉他人。",
        "Your link code is {code}. It works once, for the next {minutes} minutes. Send these "
        "6 digits in your other channel (web chat, WeChat or Telegram) to connect the two; your "
        "questions and requests will then be kept together. Don't share this code with anyone.",
    ),
    "link_too_many": (
        "您最近申请绑定码的次数较多，请 {minutes} 分钟后再试。",
        "You have asked for several link codes recently. Please try again in {minutes} minutes.",
    ),
    "link_done": (
        "绑定成功：这里已经和您的{other}连在一起了。",
        "Done: this chat is now linked with your {other}.",
    ),
    "link_already": ("这两个渠道已经绑定过了。", "These channels are already linked."),
    "link_invalid": (
        "这个绑定码无效或已过期。请在另一个渠道发送“绑定账号”获取新的绑定码。",
        "That link code is not valid or has expired. Send “link my account” in your other "
        "channel to get a new one.",
    ),
    "link_deep_invalid": (
        "这个绑定链接无效、已过期或已经用过了。请回到网页咨询，发送“绑定账号”获取新的链接。",
        "That link is not valid, has expired or was already used. Go back to the web chat and "
        "send “link my account” for a new one.",
    ),
    "continue_on_telegram": ("在 Telegram 上继续", "Continue on Telegram"),
    "link_locked": (
        "输错绑定码的次数太多了，请 {minutes} 分钟后再试。",
        "Too many wrong link codes. Please wait {minutes} minutes and try again.",
    ),
}


def text(key: str, language: str | None, **values: object) -> str:
    zh, en = TEXTS[key]
    return pick(language, zh.format(**values), en.format(**values))


@dataclass(frozen=True)
class Command:
    kind: str  # "request" | "redeem"
    code: str | None = None
    explicit: bool = True  # "绑定 123456" rather than a bare "123456"
    deep_link: bool = False  # came as Telegram's /start parameter, not typed


def parse(message: str) -> Command | None:
    """The link command in a patron's message, if it is one."""
    if _REQUEST.match(message):
        return Command("request")
    m = _REDEEM.match(message)
    if m:
        return Command("redeem", normalise_code(m.group(1)))
    code = normalise_code(message)
    if code is not None:
        return Command("redeem", code, explicit=False)
    return None


def parse_deep_link(parameter: str) -> Command | None:
    """A link command in Telegram's /start parameter ("link123456"); None for another
    parameter (those start as a plain /start). A malformed code is still a link command,
    so the patron hears that the link is bad rather than a bare greeting."""
    m = _DEEP_LINK.match(parameter.strip())
    if m is None:
        return None
    digits = m.group(1)
    code = normalise_code(digits) if len(digits) <= 16 else None
    # A malformed code is a wrong guess like any other (it matches no code's hash).
    return Command("redeem", code or "", deep_link=True)


def telegram_link(code: str) -> str | None:
    """https://t.me/<bot>?start=link<code>, when the bot's username is configured."""
    username = get_settings().telegram_bot_username.strip().lstrip("@")
    if not username or not re.fullmatch(r"[A-Za-z0-9_]{3,64}", username):
        return None
    return f"https://t.me/{username}?start={DEEP_LINK_PREFIX}{code}"


def run(
    session: Session, channel: str, external_id: str, command: Command, typed: str
) -> tuple[list[Reply], str | None] | None:
    """Carry out a link command; None when a bare number turns out not to be one
    (nobody is linking right now), so it goes to the engine like any text."""
    if command.kind == "redeem" and not command.explicit and not any_live_code(session):
        return None
    conv = conversation_for(session, channel, external_id)
    identity = identity_for(session, channel, external_id)
    # "/start link123456" says nothing about the patron's language: both until known.
    typed_language = None if command.deep_link else detect_language(typed)
    language = typed_language or conv.language or conv.patron.language
    # Remember it, so the other channel answers the linked patron in their language.
    if typed_language and not conv.patron.language:
        conv.patron.language = typed_language
    minutes = get_settings().link_code_minutes
    # The code is a secret: the transcript keeps the request, never the digits.
    record_message(session, conv, Speaker.PATRON, redacted(typed, command))
    custom: dict[str, object] | None = None
    if command.kind == "request":
        try:
            issued = issue_code(session, identity)
            reply = text("link_code", language, code=issued.code, minutes=minutes)
            stored = text("link_code", language, code="••••••", minutes=minutes)
            url = telegram_link(issued.code) if channel != "telegram" else None
            if url:  # one tap opens the bot with the code (the widget shows a link)
                custom = {"link": {"url": url, "title": text("continue_on_telegram", language)}}
        except TooManyCodes as exc:
            wait = max(1, math.ceil(exc.retry_after.total_seconds() / 60))
            reply = stored = text("link_too_many", language, minutes=wait)
    else:
        assert command.code is not None
        result = redeem_code(session, identity, command.code)
        language = language or result.language
        if result.outcome == Outcome.LINKED:
            zh, en = CHANNEL_NAMES.get(result.other_channel or "", (result.other_channel,) * 2)
            reply = pick(
                language,
                TEXTS["link_done"][0].format(other=zh),
                TEXTS["link_done"][1].format(other=en),
            )
        elif result.outcome == Outcome.ALREADY:
            reply = text("link_already", language)
        elif result.outcome == Outcome.LOCKED:
            reply = text("link_locked", language, minutes=minutes)
        else:
            reply = text("link_deep_invalid" if command.deep_link else "link_invalid", language)
        stored = reply
    record_message(session, conv, Speaker.SYSTEM, stored, payload={"command": "link"})
    return [
        Reply(text=reply, speaker="system", code=f"link_{command.kind}", custom=custom)
    ], language


def redacted(typed: str, command: Command) -> str:
    if command.kind == "redeem":
        return re.sub(r"\d", "•", typed)
    return typed
