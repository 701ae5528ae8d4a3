"""The alert actions on their own (no engine): what the patron is shown and what is
stored, in both languages. The engine-level conversation is in test_alerts_chat.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions import alerts, prompts
from kb.alerts.consent import has_consent
from kb.alerts.models import Frequency
from kb.alerts.subscriptions import subscriber_of
from kb.conversations.models import Conversation
from kb.patrons.models import Patron


@pytest.fixture
def sender(session: Session, db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    from kb.settings import get_settings

    monkeypatch.setenv("REFDESK_DATABASE_URL", db_url)
    get_settings.cache_clear()
    patron = Patron(language="zh")
    session.add(patron)
    session.flush()
    session.add(Conversation(patron_id=patron.id, channel="web", sender_id="web-test"))
    session.commit()
    return "web-test"


def tracker(
    text: str, slots: dict[str, Any] | None = None, entities: list[dict[str, Any]] | None = None
) -> Tracker:
    return Tracker(
        "web-test",
        {"language": None, **(slots or {})},
        {"text": text, "entities": entities or [], "intent": {}},
        [],
        False,
        None,
        {},
        "action_listen",
    )


async def run(action: Any, t: Tracker) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    return dispatcher.messages, slots


async def test_chinese_subscribe_confirm_frequency_consent_list_unsubscribe(
    session: Session, sender: str
) -> None:
    said, slots = await run(
        alerts.ActionSubscribeAlerts(), tracker("有新的人工智能和考古的书通知我")
    )
    assert said[0]["text"].startswith("我理解您想订阅：人工智能（TP18）、文物考古（K85）")
    assert [b["payload"] for b in said[0]["buttons"]] == ["/affirm", "/deny"]
    assert slots["alert_stage"] == "confirm"

    said, slots = await run(
        alerts.ActionAlertConfirm(), tracker("好的", {"alert_pending": slots["alert_pending"]})
    )
    assert said[0]["text"].startswith("已订阅：人工智能（TP18）、文物考古（K85）")
    assert len(said[0]["buttons"]) == 3 and slots["alert_stage"] == "frequency"

    said, _ = await run(alerts.ActionAlertFrequency(), tracker("每天"))
    assert "每日汇总" in said[0]["text"]
    assert "允许图书馆统计" in said[1]["text"]  # the separate opt-in, offered not assumed
    session.expire_all()
    patron_id = session.query(Conversation).one().patron_id
    subscriber = subscriber_of(session, patron_id)
    assert subscriber is not None and subscriber.frequency == Frequency.DAILY
    assert not has_consent(session, patron_id)

    await run(alerts.ActionAlertConsent(), tracker("允许统计点击", {"consent": "yes"}))
    session.expire_all()
    assert has_consent(session, patron_id)

    said, _ = await run(alerts.ActionListSubscriptions(), tracker("我订阅了哪些主题"))
    assert "人工智能（TP18）" in said[0]["text"] and "已允许点击统计" in said[0]["text"]
    stop = said[0]["buttons"][0]
    topic_id = json.loads(stop["payload"].split("unsubscribe_alerts", 1)[1])["alert_topic_id"]
    said, _ = await run(
        alerts.ActionUnsubscribeAlerts(), tracker(stop["title"], {"alert_topic_id": topic_id})
    )
    assert said[0]["text"] == "已退订：人工智能（TP18）。"
    said, _ = await run(
        alerts.ActionUnsubscribeAlerts(), tracker("全部退订", {"alert_topic_id": "all"})
    )
    assert said[0]["text"] == "已退订全部主题通报。"
    said, _ = await run(alerts.ActionListSubscriptions(), tracker("我订阅了哪些主题"))
    assert "没有订阅" in said[0]["text"]


async def test_english_uses_the_topic_entity_and_asks_when_nothing_is_named(
    session: Session, sender: str
) -> None:
    said, slots = await run(
        alerts.ActionSubscribeAlerts(),
        tracker(
            "notify me about new books on machine learning",
            entities=[{"entity": "topic", "value": "machine learning"}],
        ),
    )
    assert said[0]["text"].startswith("I understood: Machine learning (TP181).")
    _, asked = await run(alerts.ActionSubscribeAlerts(), tracker("turn on new book alerts"))
    assert "alert_topics" in asked and asked["alert_topics"] is None  # then the form asks
    said, _ = await run(prompts.Ask_alert_topics(), tracker("turn on new book alerts"))
    assert said[0]["text"].startswith("Which topics")
    said, _ = await run(
        alerts.ActionSubscribeAlerts(),
        tracker("urban beekeeping", {"alert_topics": "urban beekeeping"}),
    )
    assert "“urban beekeep” (keyword)" in said[0]["text"]
    said, _ = await run(alerts.ActionAlertCancel(), tracker("no"))
    assert said[0]["text"].startswith("OK, nothing subscribed")
    said, _ = await run(alerts.ActionUnsubscribeAlerts(), tracker("stop sending me alerts"))
    assert said[0]["text"] == "You have no alert subscriptions."
