"""Alert preferences in chat: quiet hours, time zone, channel and language, said the way
a patron says them ("晚上10点到早上8点别发", "send them by email", "我在纽约"). The words
are read by :mod:`kb.alerts.preferences`; this module applies them and says back, in
the patron's (possibly just chosen) language, what was understood and saved."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.common import in_db, reply_language, say
from kb.alerts.preferences import Preferences, read_preferences
from kb.alerts.subscriptions import configure, ensure_subscriber, reachable_channels
from kb.crypto import keyring
from kb.patrons.service import patron_for_sender

CHANNEL_LABEL = {
    "email": ("电子邮件", "e-mail"),
    "wechat": ("微信", "WeChat"),
    "telegram": ("Telegram", "Telegram"),
    "web": ("网页聊天", "web chat"),
}
LANGUAGE_LABEL = {"zh": ("中文", "Chinese"), "en": ("英文", "English")}


@dataclass
class Outcome:
    """What was saved, and what could not be (and why)."""

    known: bool = True
    saved: list[tuple[str, str]] = field(default_factory=list)  # (zh, en) lines
    problems: list[tuple[str, str]] = field(default_factory=list)
    language: str | None = None
    has_topics: bool = True


def _label(pair: tuple[str, str], language: str) -> str:
    return pair[0] if language == "zh" else pair[1]


def _channel(session: Session, patron: Any, wanted: Preferences, out: Outcome) -> str | None:
    if wanted.email:
        patron.email = wanted.email
        patron.email_index = keyring().blind_index(wanted.email.strip().lower(), "email")
    have = reachable_channels(patron)
    channel = wanted.channel
    if channel is None or channel in have:
        return channel
    if channel == "email":
        out.problems.append(
            (
                "用邮件发送需要您的邮箱地址，请连同地址再说一次，例如“通知发到 name@example.com”。",
                "E-mail alerts need your address: say it again with the address, e.g. "
                "“send my alerts to name@example.com”.",
            )
        )
    else:
        zh = "、".join(CHANNEL_LABEL[c][0] for c in have) or "无"
        en = ", ".join(CHANNEL_LABEL[c][1] for c in have) or "none"
        out.problems.append(
            (
                f"您还没有关联{CHANNEL_LABEL[channel][0]}，无法通过它发送。可用的渠道：{zh}。",
                f"You have not linked {CHANNEL_LABEL[channel][1]}, so alerts cannot go there. "
                f"Channels you have: {en}.",
            )
        )
    return None


def apply(session: Session, sender: str, wanted: Preferences, language: str) -> Outcome:
    patron = patron_for_sender(session, sender)
    if patron is None:
        return Outcome(known=False)
    out = Outcome(language=wanted.language)
    subscriber = ensure_subscriber(session, patron.id)
    out.has_topics = bool(subscriber.topics)
    channel = _channel(session, patron, wanted, out)
    quiet_start = quiet_end = None
    if wanted.quiet_off:
        quiet_start = quiet_end = ""
    elif wanted.quiet:
        quiet_start, quiet_end = wanted.quiet
    configure(
        session,
        subscriber,
        timezone=wanted.timezone,
        quiet_start=quiet_start,
        quiet_end=quiet_end,
        channel=channel,
        language=wanted.language,
    )
    if wanted.quiet_off:
        out.saved.append(("不设免打扰时段", "no quiet hours"))
    elif wanted.quiet:
        start, end = wanted.quiet
        out.saved.append((f"免打扰 {start}–{end}", f"quiet hours {start}–{end}"))
    elif wanted.quiet_incomplete:
        out.problems.append(
            (
                "免打扰需要开始和结束两个时间，例如“晚上10点到早上7点别发”。",
                "Quiet hours need a start and an end, e.g. “no alerts between 10pm and 7am”.",
            )
        )
    if wanted.timezone:
        out.saved.append((f"时区 {wanted.timezone}", f"time zone {wanted.timezone}"))
    if channel:
        zh, en = CHANNEL_LABEL[channel]
        out.saved.append((f"渠道：{zh}", f"channel: {en}"))
    if wanted.language:
        zh, en = LANGUAGE_LABEL[wanted.language]
        out.saved.append((f"语言：{zh}", f"language: {en}"))
    return out


class ActionSetAlertPreferences(Action):
    def name(self) -> str:
        return "action_set_alert_preferences"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        text = (tracker.latest_message or {}).get("text") or ""
        wanted = read_preferences(text)
        if wanted.empty:
            say(
                dispatcher,
                language,
                "可以设置：免打扰时段（“晚上10点到早上7点别发”）、时区（“我在纽约”）、"
                "渠道（“用邮件发给我”）、语言（“用英文”）。您想改哪一项？",
                "You can set quiet hours (“no alerts between 10pm and 7am”), your time zone "
                "(“my time zone is Europe/Berlin”), the channel (“send them by email”) and the "
                "language (“in English please”). What would you like to change?",
            )
            return []
        out = await in_db(apply, tracker.sender_id, wanted, language)
        if not out.known:
            say(
                dispatcher,
                language,
                "抱歉，暂时无法保存设置，请稍后再试。",
                "Sorry, I could not save that just now; please try again later.",
            )
            return []
        # A newly chosen language is the one to answer in.
        language = out.language or language
        if out.saved:
            sep = "；" if language == "zh" else "; "
            saved = sep.join(_label(p, language) for p in out.saved)
            say(
                dispatcher,
                language,
                f"好的，通知设置已更新：{saved}。",
                f"Done, your alert settings now: {saved}.",
            )
        for problem in out.problems:
            say(dispatcher, language, *problem)
        if out.saved and not out.has_topics:
            say(
                dispatcher,
                language,
                "您还没有订阅主题，告诉我想订阅什么即可，例如“订阅人工智能”。",
                "You have no alert topics yet; name one, e.g. “subscribe me to machine learning”.",
            )
        return []
