"""Topical alerts in chat: subscribe in one's own words (shown back with the CLC labels,
confirmed, then how often), the separate click-tracking opt-in, unsubscribe, list."""

from __future__ import annotations

import json
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.alert_preferences import CHANNEL_LABEL, LANGUAGE_LABEL
from actions.common import in_db, reply_language, say
from kb.alerts import consent as consent_store
from kb.alerts.models import Frequency, Subscriber
from kb.alerts.subscriptions import (
    add_topics,
    configure,
    remove_all,
    remove_topic,
    subscriber_of,
    topic_label,
)
from kb.alerts.vocabulary import Understood, vocabulary
from kb.patrons.service import patron_for_sender

FREQUENCY_WORDS = [
    (Frequency.WEEKLY, r"每周|每星期|一周|周报|weekly|every week|once a week"),
    (Frequency.DAILY, r"每天|每日|一天|日报|daily|every day|once a day"),
    (Frequency.INSTANT, r"即时|马上|立即|实时|立刻|instant|right away|immediately|as soon"),
]
FREQ_LABEL = {
    Frequency.INSTANT: ("即时（有新内容就发）", "instant (as soon as there is something new)"),
    Frequency.DAILY: ("每日汇总", "a daily digest"),
    Frequency.WEEKLY: ("每周汇总（周一）", "a weekly digest (Mondays)"),
}


def _words(tracker: Tracker) -> str:
    asked = tracker.get_slot("alert_topics")
    if asked:
        return str(asked)
    entities = [
        e.get("value")
        for e in (tracker.latest_message or {}).get("entities") or []
        if e.get("entity") in ("topic", "author") and e.get("value")
    ]
    if entities:
        # What the model tagged as the topic (or author); several are kept apart.
        return "、".join(str(e) for e in entities)
    return (tracker.latest_message or {}).get("text") or ""


def _labels(understood: Understood, language: str) -> str:
    parts = [t.label(language) for t in understood.topics]
    parts += [
        f"“{k}”" + ("（关键词）" if language == "zh" else " (keyword)") for k in understood.keywords
    ]
    return "、".join(parts) if language == "zh" else ", ".join(parts)


class ActionSubscribeAlerts(Action):
    def name(self) -> str:
        return "action_subscribe_alerts"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        words = _words(tracker)
        understood = vocabulary().understand(words)
        text = (tracker.latest_message or {}).get("text") or ""
        if not understood and not tracker.get_slot("alert_topics") and words != text:
            words = text
            understood = vocabulary().understand(text)
        if not understood:
            if tracker.get_slot("alert_topics"):
                say(
                    dispatcher,
                    language,
                    "抱歉，我没能从中找出主题。可以换个说法，例如“人工智能”“宋史”“气候变化”。",
                    "Sorry, I couldn't find a topic in that. Try e.g. “machine learning”, "
                    "“Song dynasty”, “climate change”.",
                )
                return [SlotSet("alert_topics", None), SlotSet("alert_stage", None)]
            return [SlotSet("alert_topics", None), FollowupAction("alert_topics_form")]
        pending = json.dumps(
            {
                "codes": [t.code for t in understood.topics],
                "keywords": understood.keywords,
                "words": words[:200],
            },
            ensure_ascii=False,
        )
        say(
            dispatcher,
            language,
            f"我理解您想订阅：{_labels(understood, language)}。有这些主题的新书和图书馆消息时通知您，可以吗？",
            f"I understood: {_labels(understood, language)}. Shall I alert you to new titles and "
            "library news on these?",
            buttons=[
                ("好的，订阅", "Yes, subscribe", "/affirm"),
                ("不对 / 取消", "No, cancel", "/deny"),
            ],
        )
        return [
            SlotSet("alert_pending", pending),
            SlotSet("alert_stage", "confirm"),
            SlotSet("alert_topics", None),
        ]


def _confirm(session: Session, sender: str, pending: dict[str, Any], language: str) -> str | None:
    patron = patron_for_sender(session, sender)
    if patron is None:
        return None
    vocab = vocabulary()
    understood = Understood(
        topics=[t for c in pending.get("codes", []) if (t := vocab.get(c)) is not None],
        keywords=list(pending.get("keywords", [])),
    )
    subscriber, _ = add_topics(
        session, patron.id, understood, words=pending.get("words"), language=language
    )
    return ("、" if language == "zh" else ", ").join(
        topic_label(t, language, vocab) for t in subscriber.topics
    )


class ActionAlertConfirm(Action):
    def name(self) -> str:
        return "action_alert_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        pending = json.loads(tracker.get_slot("alert_pending") or "{}")
        topics = await in_db(_confirm, tracker.sender_id, pending, language) if pending else None
        if not topics:
            say(
                dispatcher,
                language,
                "抱歉，订阅没有保存成功，请再说一次想订阅的主题。",
                "Sorry, the subscription was not saved; please name the topics again.",
            )
            return [
                SlotSet("alert_stage", None),
                SlotSet("alert_pending", None),
                FollowupAction("action_listen"),
            ]
        say(
            dispatcher,
            language,
            f"已订阅：{topics}。您希望多久收到一次通知？",
            f"Subscribed: {topics}. How often would you like alerts?",
            buttons=[
                ("即时", "Instant", '/choose_frequency{"frequency": "instant"}'),
                ("每日汇总", "Daily digest", '/choose_frequency{"frequency": "daily"}'),
                ("每周汇总", "Weekly digest", '/choose_frequency{"frequency": "weekly"}'),
            ],
        )
        return [SlotSet("alert_stage", "frequency"), SlotSet("alert_pending", None)]


class ActionAlertCancel(Action):
    def name(self) -> str:
        return "action_alert_cancel"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        say(
            dispatcher,
            reply_language(tracker),
            "好的，没有订阅。需要时再告诉我想订阅的主题。",
            "OK, nothing subscribed. Tell me the topics whenever you like.",
        )
        return [SlotSet("alert_stage", None), SlotSet("alert_pending", None)]


def _frequency_of(tracker: Tracker) -> Frequency | None:
    value = tracker.get_slot("frequency")
    if value:
        try:
            return Frequency(str(value))
        except ValueError:
            pass
    text = ((tracker.latest_message or {}).get("text") or "").lower()
    for frequency, pattern in FREQUENCY_WORDS:
        if re.search(pattern, text):
            return frequency
    return None


def _set_frequency(session: Session, sender: str, frequency: Frequency) -> tuple[bool, bool]:
    patron = patron_for_sender(session, sender)
    subscriber = subscriber_of(session, patron.id) if patron else None
    if subscriber is None or patron is None:
        return False, False
    configure(session, subscriber, frequency=frequency.value)
    return True, consent_store.has_consent(session, patron.id)


class ActionAlertFrequency(Action):
    def name(self) -> str:
        return "action_alert_frequency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        frequency = _frequency_of(tracker)
        if frequency is None:
            say(
                dispatcher,
                language,
                "请选择：即时、每日或每周。",
                "Please choose: instant, daily or weekly.",
                buttons=[
                    ("即时", "Instant", '/choose_frequency{"frequency": "instant"}'),
                    ("每日汇总", "Daily digest", '/choose_frequency{"frequency": "daily"}'),
                    ("每周汇总", "Weekly digest", '/choose_frequency{"frequency": "weekly"}'),
                ],
            )
            return [SlotSet("frequency", None)]
        found, consented = await in_db(_set_frequency, tracker.sender_id, frequency)
        if not found:
            say(
                dispatcher,
                language,
                "您还没有订阅任何主题。想订阅什么？",
                "You have no alert topics yet. What would you like alerts on?",
            )
            return [SlotSet("alert_stage", None), SlotSet("frequency", None)]
        zh, en = FREQ_LABEL[frequency]
        say(
            dispatcher,
            language,
            f"好的，通知方式：{zh}。每条通知都带有一键退订链接。",
            f"Done: {en}. Every alert has one-tap unsubscribe links.",
        )
        if not consented:
            say(
                dispatcher,
                language,
                "另外（可选）：" + consent_store.WORDING["zh"],
                "Optional: " + consent_store.WORDING["en"],
                buttons=[
                    (
                        "允许统计点击和打开",
                        "Allow counting clicks and opens",
                        '/alert_consent{"consent": "yes"}',
                    ),
                    ("不用了", "No, thanks", '/alert_consent{"consent": "no"}'),
                ],
            )
        return [SlotSet("alert_stage", None), SlotSet("frequency", None)]


def _record_consent(session: Session, sender: str, granted: bool, language: str) -> bool:
    patron = patron_for_sender(session, sender)
    if patron is None:
        return False
    if granted or consent_store.has_consent(session, patron.id):
        consent_store.record(session, patron.id, granted, source="chat", language=language)
    return True


class ActionAlertConsent(Action):
    def name(self) -> str:
        return "action_alert_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        value = str(tracker.get_slot("consent") or "").lower()
        granted = value == "yes"
        await in_db(_record_consent, tracker.sender_id, granted, language)
        if granted:
            say(
                dispatcher,
                language,
                "谢谢，已记录您的同意。随时说“撤回点击统计”即可取消。",
                "Thank you, noted. Say “turn off click tracking” at any time to withdraw.",
            )
        else:
            say(
                dispatcher,
                language,
                "好的，不统计您的点击。",
                "OK, your clicks will not be counted.",
            )
        return [SlotSet("consent", None)]


def _topics_of(
    session: Session, sender: str, language: str
) -> tuple[Subscriber | None, list[tuple[int, str]], str]:
    patron = patron_for_sender(session, sender)
    subscriber = subscriber_of(session, patron.id) if patron else None
    if subscriber is None or not subscriber.active:
        return None, [], ""
    vocab = vocabulary()
    topics = [(t.id, topic_label(t, language, vocab)) for t in subscriber.topics]
    zh, en = FREQ_LABEL[subscriber.frequency]
    details = zh if language == "zh" else en
    if subscriber.quiet_start and subscriber.quiet_end:
        details += (
            f"，免打扰 {subscriber.quiet_start}–{subscriber.quiet_end}"
            if language == "zh"
            else f", quiet hours {subscriber.quiet_start}–{subscriber.quiet_end}"
        )
    details += f" ({subscriber.timezone})"
    if subscriber.channel:
        zh, en = CHANNEL_LABEL.get(subscriber.channel, (subscriber.channel, subscriber.channel))
        details += f"，渠道：{zh}" if language == "zh" else f", channel: {en}"
    zh, en = LANGUAGE_LABEL.get(subscriber.language, (subscriber.language, subscriber.language))
    details += f"，语言：{zh}" if language == "zh" else f", language: {en}"
    if consent_store.has_consent(session, subscriber.patron_id):
        details += "；已允许点击统计" if language == "zh" else "; click counting allowed"
    return subscriber, topics, details


def _unsubscribe(session: Session, sender: str, which: str) -> list[str] | None:
    patron = patron_for_sender(session, sender)
    subscriber = subscriber_of(session, patron.id) if patron else None
    if subscriber is None:
        return None
    vocab = vocabulary()
    language = subscriber.language
    if which == "all":
        labels = [topic_label(t, language, vocab) for t in subscriber.topics]
        remove_all(session, subscriber)
        return labels
    try:
        topic_id = int(which)
    except ValueError:
        return None
    topic = next((t for t in subscriber.topics if t.id == topic_id), None)
    if topic is None:
        return None
    label = topic_label(topic, language, vocab)
    remove_topic(session, subscriber, topic_id)
    return [label]


def _unsubscribe_buttons(topics: list[tuple[int, str]]) -> list[tuple[str, str, str]]:
    buttons = [
        (f"退订 {label}", f"Stop {label}", f'/unsubscribe_alerts{{"alert_topic_id": "{tid}"}}')
        for tid, label in topics[:8]
    ]
    buttons.append(("全部退订", "Stop all alerts", '/unsubscribe_alerts{"alert_topic_id": "all"}'))
    return buttons


class ActionUnsubscribeAlerts(Action):
    def name(self) -> str:
        return "action_unsubscribe_alerts"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        which = tracker.get_slot("alert_topic_id")
        if which:
            removed = await in_db(_unsubscribe, tracker.sender_id, str(which))
            if removed is None:
                say(
                    dispatcher,
                    language,
                    "这个订阅已经不存在了。",
                    "That subscription no longer exists.",
                )
            elif str(which) == "all":
                say(
                    dispatcher,
                    language,
                    "已退订全部主题通报。",
                    "You are unsubscribed from all alerts.",
                )
            else:
                say(
                    dispatcher,
                    language,
                    f"已退订：{removed[0]}。",
                    f"Unsubscribed from {removed[0]}.",
                )
            return [SlotSet("alert_topic_id", None)]
        _, topics, _ = await in_db(_topics_of, tracker.sender_id, language)
        if not topics:
            say(
                dispatcher,
                language,
                "您目前没有订阅任何主题通报。",
                "You have no alert subscriptions.",
            )
            return []
        say(
            dispatcher,
            language,
            "要退订哪一个？点一下即可。",
            "Which one should stop? One tap is enough.",
            buttons=_unsubscribe_buttons(topics),
        )
        return []


class ActionListSubscriptions(Action):
    def name(self) -> str:
        return "action_list_subscriptions"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        _, topics, details = await in_db(_topics_of, tracker.sender_id, language)
        if not topics:
            say(
                dispatcher,
                language,
                "您目前没有订阅任何主题通报。想订阅的话，告诉我主题即可，例如“订阅人工智能”。",
                "You have no alert subscriptions. To start, name a topic, e.g. “subscribe me to machine learning”.",
            )
            return []
        lines = "\n".join(f"• {label}" for _, label in topics)
        say(
            dispatcher,
            language,
            f"您订阅的主题：\n{lines}\n通知方式：{details}",
            f"Your alert topics:\n{lines}\nDelivery: {details}",
            buttons=_unsubscribe_buttons(topics),
        )
        return []
