"""Alerts through the real engine, in Chinese and English: subscribe in one's own words,
see the CLC labels, confirm, choose how often; new records are imported and an alert is
queued in the outbound queue for that patron by the alerts worker `refdesk up` runs;
one tap (the alert's link, or a chat button) unsubscribes."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from kb.outbound.models import OutboundMessage
from tests.kb.alerts.conftest import bib, import_only
from tests.support.chat import ChatClient, language_of, texts

pytestmark = pytest.mark.stack


def buttons(replies: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [b for r in replies for b in r.get("buttons", [])]


def button(replies: list[dict[str, Any]], payload_part: str) -> dict[str, str]:
    found = [b for b in buttons(replies) if payload_part in b["payload"]]
    assert found, f"no button with {payload_part!r} in {buttons(replies)}"
    return found[0]


def wait_for_alert(stack, title: str, timeout: float = 180) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with stack.db() as session:
            for message in session.scalars(
                select(OutboundMessage).where(OutboundMessage.kind == "alert")
            ):
                body = json.loads(message.body)
                if title in body["text"]:
                    return body
        time.sleep(0.5)
    raise AssertionError(f"no alert for {title!r} was queued; log:\n{stack.log_tail()}")


def import_new(stack, title: str, clc: str, **kw: Any) -> None:  # type: ignore[no-untyped-def]
    """Only the import: the stack's alerts worker tags, matches and queues the alert."""
    with stack.db() as session:
        import_only(session, [bib(f"alerts-{uuid.uuid4().hex[:8]}", title, clc=clc, **kw)])


async def test_subscribe_in_chinese_get_an_alert_and_unsubscribe_with_one_tap(
    stack, chat: ChatClient
) -> None:  # type: ignore[no-untyped-def]
    asked = await chat.say("有新的人工智能的书通知我")
    assert "人工智能（TP18）" in texts(asked) and language_of(asked) == "zh"
    confirmed = await chat.click(button(asked, "/affirm"))
    assert "已订阅：人工智能（TP18）" in texts(confirmed)
    done = await chat.click(button(confirmed, '"instant"'))
    assert "即时" in texts(done) and "一键退订" in texts(done)
    # The tracking opt-in is separate and offered, never assumed.
    refused = await chat.click(button(done, '"no"'))
    assert "不统计" in texts(refused)

    title = f"机器学习新论 {uuid.uuid4().hex[:6]}"
    import_new(stack, title, "TP181")
    alert = wait_for_alert(stack, title)
    assert "主题通报" in alert["text"] and "人工智能（TP18）" in alert["text"]
    link = re.search(r"退订「人工智能（TP18）」：(\S+)", alert["text"]).group(1)  # type: ignore[union-attr]
    async with httpx.AsyncClient() as web:
        page = await web.post(link)
    assert page.status_code == 200 and "已退订" in page.text

    listed = await chat.say("我订阅了哪些主题")
    assert "没有订阅" in texts(listed)


async def test_subscribe_in_english_with_typed_answers_and_stop_with_a_chat_button(
    stack, chat: ChatClient
) -> None:  # type: ignore[no-untyped-def]
    asked = await chat.say("subscribe me to climate change alerts")
    assert "Climate change (P467)" in texts(asked) and language_of(asked) == "en"
    confirmed = await chat.say("yes")
    assert "Subscribed: Climate change (P467)" in texts(confirmed)
    done = await chat.click(button(confirmed, '"instant"'))
    assert "one-tap unsubscribe" in texts(done)
    allowed = await chat.click(button(done, '"yes"'))
    assert "noted" in texts(allowed)

    title = f"Climate Futures {uuid.uuid4().hex[:6]}"
    import_new(stack, title, "P467", links=[{"url": "https://example.org/climate"}])
    alert = wait_for_alert(stack, title)
    assert alert["text"].startswith("New for your alert:")
    assert "/alerts/r/" in alert["text"]  # consented: the link is counted
    assert "Unsubscribe from Climate change (P467):" in alert["text"]

    listed = await chat.say("show my subscriptions")
    assert "Climate change (P467)" in texts(listed)
    stopped = await chat.click(button(listed, "alert_topic_id"))
    assert "Unsubscribed from Climate change (P467)" in texts(stopped)
    again = await chat.say("what am I subscribed to")
    assert "no alert subscriptions" in texts(again)


def _subscriber_by_email(stack, address: str):  # type: ignore[no-untyped-def]
    from kb.alerts.subscriptions import subscriber_of
    from kb.crypto import keyring
    from kb.patrons.models import Patron

    with stack.db() as session:
        index = keyring().blind_index(address.lower(), "email")
        patron = session.scalar(select(Patron).where(Patron.email_index == index))
        assert patron is not None, f"no patron with {address}"
        sub = subscriber_of(session, patron.id)
        assert sub is not None
        return sub.channel, sub.language, sub.timezone, sub.quiet_start, sub.quiet_end


async def test_alert_preferences_said_in_chinese(stack, chat: ChatClient) -> None:  # type: ignore[no-untyped-def]
    asked = await chat.say("有新的人工智能的书通知我")
    await chat.click(button(asked, "/affirm"))
    quiet = await chat.say("晚上十点到早上七点半别给我推送通知")
    assert "免打扰 22:00–07:30" in texts(quiet) and language_of(quiet) == "zh"
    zone = await chat.say("我现在在纽约，通知按纽约时间")
    assert "时区 America/New_York" in texts(zone)
    wechat = await chat.say("通知改成微信推送")
    assert "还没有关联微信" in texts(wechat) and "网页聊天" in texts(wechat)
    email = await chat.say("通知用邮件发给我")
    assert "邮箱地址" in texts(email)
    address = f"li.hua.{uuid.uuid4().hex[:6]}@example.edu.cn"
    saved = await chat.say(f"以后通知都发到我邮箱 {address}")
    assert "渠道：电子邮件" in texts(saved)
    english = await chat.say("通知用英文发")
    assert "language: English" in texts(english)  # confirmed in the chosen language
    assert _subscriber_by_email(stack, address) == (
        "email",
        "en",
        "America/New_York",
        "22:00",
        "07:30",
    )
    listed = await chat.say("我订阅了哪些主题")
    assert "免打扰 22:00–07:30" in texts(listed) and "America/New_York" in texts(listed)


async def test_alert_preferences_said_in_english(stack, chat: ChatClient) -> None:  # type: ignore[no-untyped-def]
    asked = await chat.say("subscribe me to climate change alerts")
    await chat.say("yes")
    quiet = await chat.say("please no alerts between 11pm and 6am")
    assert "quiet hours 23:00–06:00" in texts(quiet) and language_of(quiet) == "en"
    zone = await chat.say("my time zone is Europe/Berlin")
    assert "time zone Europe/Berlin" in texts(zone)
    one = await chat.say("no alerts after 10pm")
    assert "need a start and an end" in texts(one)
    address = f"j.smith.{uuid.uuid4().hex[:6]}@example.edu"
    mail = await chat.say(f"send my alerts by email to {address}")
    assert "channel: e-mail" in texts(mail)
    chinese = await chat.say("alerts in Chinese please")
    assert "语言：中文" in texts(chinese)
    assert _subscriber_by_email(stack, address) == (
        "email",
        "zh",
        "Europe/Berlin",
        "23:00",
        "06:00",
    )
    assert "Climate change (P467)" in texts(asked)
