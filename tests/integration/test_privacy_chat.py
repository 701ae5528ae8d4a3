"""Privacy rights through the real engine, in Chinese and in English: the notice on
first contact, an export link that downloads the patron's data, and erasure after a
yes, checked in the app database and in the engine's tracker store; the delivery
statistics still count the patron's (now anonymous) ticket."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from kb import engine_tracker as tracker
from kb.conversations import find_conversation
from kb.conversations.models import Conversation
from kb.db import utcnow
from kb.delivery.metrics import delivery_report
from kb.delivery.models import DeliveryRequest
from kb.delivery.states import DeliveryMethod, ServiceType, Status
from kb.patrons.models import Patron
from kb.privacy.models import Erasure
from tests.support.chat import ChatClient, texts

pytestmark = pytest.mark.stack

CASES = {
    "zh": {
        "hello": "你好",
        "notice": "隐私提示",
        "export": "我的个人数据",
        "link": "下载链接",
        "forget": "删除我的数据",
        "ask": "确定要删除",
        "yes": "确定删除",
        "done": "已删除您的全部数据",
    },
    "en": {
        "hello": "hello there",
        "notice": "Privacy notice",
        "export": "what data do you hold about me",
        "link": "download link",
        "forget": "forget me",
        "ask": "really want us to erase",
        "yes": "Yes, erase it",
        "done": "All your data has been erased",
    },
}


def _notices(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in replies if r.get("code") == "privacy_notice"]


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_notice_export_and_forget(stack, chat: ChatClient, language: str) -> None:  # type: ignore[no-untyped-def]
    case = CASES[language]
    chat.notices_as_replies = True
    first = await chat.say(case["hello"])
    notice = _notices(first)
    assert len(notice) == 1 and case["notice"] in notice[0]["text"], first
    assert first[-1] is notice[0] and len(first) > 1  # after the answer to "hello"
    other = "隐私提示" if language == "en" else "Privacy notice"
    assert other not in notice[0]["text"]  # the patron's language only
    assert not _notices(await chat.say(case["hello"]))  # once

    exported = await chat.say(case["export"])
    assert case["link"] in texts(exported), exported
    url = re.search(r"https?://\S+/privacy/export/\S+", texts(exported))
    assert url is not None, texts(exported)
    download = httpx.get(url.group(0), timeout=30)
    assert download.status_code == 200
    data = download.json()
    said = [m["text"] for c in data["conversations"] for m in c["messages"]]
    assert case["hello"] in said and case["export"] in said
    assert [c["purpose"] for c in data["consents"]] == ["processing"]
    assert httpx.get(url.group(0), timeout=30).status_code == 410  # once only

    with stack.db() as session:
        conv = find_conversation(session, "web", chat.session)
        assert conv is not None
        sender, patron_id = conv.sender_id, conv.patron_id
        session.add(
            DeliveryRequest(
                ticket=f"DD-2026-9{patron_id:05d}",
                patron_id=patron_id,
                status=Status.COMPLETED,
                title="三体",
                service_type=ServiceType.LOAN,
                delivery_method=DeliveryMethod.PICKUP,
                contact_name="李华 Li Hua",
                contact_email="li.hua@example.edu.cn",
                closed_at=utcnow(),
            )
        )
    tracker_url = stack.env["REFDESK_TRACKER_STORE_URL"]
    assert tracker.count_events(tracker_url, sender) > 0

    asked = await chat.say(case["forget"])
    assert case["ask"] in texts(asked), asked
    yes = next(b for r in asked for b in r.get("buttons", []) if b["title"] == case["yes"])
    done = await chat.click(yes)
    assert case["done"] in texts(done), done

    today = utcnow().date()
    with stack.db() as session:
        assert session.get(Patron, patron_id) is None
        assert (
            session.scalar(
                select(func.count(Conversation.id)).where(Conversation.sender_id == sender)
            )
            == 0
        )
        ticket = session.scalars(
            select(DeliveryRequest).where(DeliveryRequest.ticket == f"DD-2026-9{patron_id:05d}")
        ).one()
        assert (ticket.patron_id, ticket.contact_name, ticket.contact_email) == (None, None, None)
        report = delivery_report(session, today - timedelta(days=1), today + timedelta(days=1))
        assert report.total.requests >= 1
        assert session.scalar(select(func.count(Erasure.id))) >= 1
    assert tracker.count_events(tracker_url, sender) == 0  # the engine's copy is gone too

    again = await chat.say(case["hello"])  # the same chat: a new patron now
    assert len(_notices(again)) == 1, again
    with stack.db() as session:
        conv = find_conversation(session, "web", chat.session)
        assert conv is not None and conv.patron_id is not None
        # A new patron (SQLite may hand out the freed id again): none of the old data is theirs.
        assert (
            session.scalar(
                select(func.count(DeliveryRequest.id)).where(
                    DeliveryRequest.patron_id == conv.patron_id
                )
            )
            == 0
        )
