"""The privacy command: "隐私设置" / "privacy settings" / Telegram's /privacy.

Answers, on any channel, with what the patron has agreed to and since when, and a
one-time link to their privacy page (bot.privacy_settings_page) where they can grant or
withdraw, export or erase. Handled by the gateway before the engine, like the link
command (bot.linking): the phrases are fixed, the link is a secret that must not reach
the engine's tracker, and it keeps working while the engine is down.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from bot.replies import Reply
from kb.conversations import Speaker, conversation_for, record_message
from kb.language import detect_language, pick
from kb.privacy import choices, page_links
from kb.settings import get_settings

_COMMAND = re.compile(
    r"^\s*(?:/privacy(?:@\w+)?|(?:my\s+)?privacy\s+settings|my\s+consents|"
    r"(?:我的)?隐私设置|我的授权|隐私授权)\s*[.!。！]?\s*$",
    re.IGNORECASE,
)
CODE = "privacy_settings"
_HIDDEN = "[link hidden]"

_STATES = {
    "on": ("已同意", "granted"),
    "off": ("未同意", "not granted"),
    "declined": ("您婉拒过", "you declined"),
    "shown": ("已显示", "shown"),
    "not_shown": ("尚未显示", "not shown yet"),
}
_HEAD = ("您目前的隐私设置：", "Your privacy settings now:")
_LINK = (
    "在这个页面可以开启或撤回授权，也可以导出或删除您的数据。链接 {minutes} 分钟内有效，"
    "只能打开一次，请勿转发：\n{url}",
    "On this page you can grant or withdraw them, and export or erase your data. The link "
    "works once, within {minutes} minutes; please do not forward it:\n{url}",
)


def matches(message: str) -> bool:
    return bool(_COMMAND.match(message))


def page_url(token: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}/privacy/me/{token}"


def _summary(found: list[choices.Choice], zh: bool) -> list[str]:
    lines = []
    for choice in found:
        if choice.switchable:
            key = "on" if choice.granted else ("declined" if choice.declined else "off")
        else:
            key = "shown" if choice.granted else "not_shown"
        name = choices.PURPOSES[choice.purpose][0][0 if zh else 1]
        state = _STATES[key][0 if zh else 1]
        line = f"· {name}：{state}" if zh else f"· {name}: {state}"
        if choice.since is not None:
            line += f"（{choice.since:%Y-%m-%d}）" if zh else f" (since {choice.since:%Y-%m-%d})"
        lines.append(line)
    return lines


def run(session: Session, channel: str, external_id: str, typed: str) -> tuple[Reply, str | None]:
    """The answer to the command, and the conversation's language."""
    conv = conversation_for(session, channel, external_id)
    language = detect_language(typed) or conv.language or conv.patron.language
    minutes = get_settings().privacy_page_link_minutes
    token = page_links.issue(session, conv.patron_id, channel, minutes=minutes)
    found = choices.choices(session, conv.patron_id)

    def text(url: str) -> str:
        zh = "\n".join(
            [_HEAD[0], *_summary(found, True), _LINK[0].format(minutes=minutes, url=url)]
        )
        en = "\n".join(
            [_HEAD[1], *_summary(found, False), _LINK[1].format(minutes=minutes, url=url)]
        )
        return pick(language, zh, en)

    record_message(session, conv, Speaker.PATRON, typed)
    # The link is a key to the page: the transcript keeps the answer without it.
    record_message(session, conv, Speaker.SYSTEM, text(_HIDDEN), payload={"command": "privacy"})
    return Reply(text=text(page_url(token)), speaker="system", code=CODE), language
