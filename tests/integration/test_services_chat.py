"""Patron services through the real engine, in Chinese and English: the library account
and renewals over SIP2 (the fixture ILS), reading suggestions, purchase suggestions,
subject librarians and feedback; and the PIN that must never be stored anywhere."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from kb.acquisitions import PurchaseSuggestion
from kb.conversations import find_conversation
from kb.crypto import keyring
from kb.feedback import Feedback, FeedbackKind
from kb.outbound import OutboundMessage
from kb.outbound.service import body_of
from kb.staff.models import StaffRole
from kb.staff.service import add_staff
from tests.support.chat import ChatClient, language_of, texts

pytestmark = pytest.mark.stack

PIN_A = "7Q3z9K"  # card 29001 (tests/fixtures/sip2_server.py)
PIN_B = "Bk9x2m"  # card 29002, blocked


def buttons(replies: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [b for r in replies for b in r.get("buttons", [])]


def button(replies: list[dict[str, Any]], *words: str) -> dict[str, str]:
    return next(b for b in buttons(replies) if all(w in b["title"] for w in words))


async def sign_in(chat: ChatClient, ask: str, card: str, pin: str) -> list[dict[str, Any]]:
    asked = await chat.say(ask)
    assert "借书证号" in texts(asked) or "card number" in texts(asked), texts(asked)
    prompt = await chat.say(card)
    assert any((r.get("custom") or {}).get("secret_input") for r in prompt), prompt
    return await chat.say(pin)


# --- my_account / renew_loan ---------------------------------------------------------------


async def test_chinese_account_loans_holds_fines_and_renewals(chat: ChatClient) -> None:
    account = await sign_in(chat, "我借了哪些书", "29001", PIN_A)
    text = texts(account)
    assert "李华" in text and "在借 4 册" in text and "应还" in text, text
    assert "三体" in text and "（已逾期）" in text  # Overdue Atlas
    assert "Norwegian Wood" in text and "Main Library 总馆" in text  # hold ready
    assert "欠款合计：6.50" in text
    assert language_of(account) == "zh"

    listing = await chat.click(button(account, "续借"))
    assert "要续借哪一本" in texts(listing)
    held = await chat.click(button(listing, "Dream of the Red Chamber"))
    assert "其他读者预约了这本书" in texts(held)
    listing = await chat.say("续借")  # verified once: no PIN again
    maxed = await chat.click(button(listing, "Python"))
    assert "已达到续借次数上限" in texts(maxed)
    everything = await chat.click(button(listing, "全部续借"))
    text = texts(everything)
    assert "续借结果" in text and "✓" in text and "✗" in text
    assert "三体" in text and "新的应还日期" in text


async def test_english_wrong_pin_then_a_blocked_account_is_explained(chat: ChatClient) -> None:
    wrong = await sign_in(chat, "when are my books due", "29002", "not-my-pin")
    assert "That PIN is not right" in texts(wrong)
    again = await chat.click(button(wrong, "Try again"))
    assert "PIN of card 29**2" in texts(again)  # the card is remembered, masked
    account = await chat.say(PIN_B)
    text = texts(account)
    assert "Wang Fang" in text and "The Art of Computer Programming" in text
    assert "Fines: 120.00" in text and "account is blocked" in text
    assert language_of(account) == "en"
    listing = await chat.say("renew my books")
    refused = await chat.click(button(listing, "Renew The Art"))
    assert "not renewed" in texts(refused) and "account is blocked" in texts(refused)
    out = await chat.say("show my account")
    signed_out = await chat.click(button(out, "Sign out"))
    assert "signed out" in texts(signed_out)
    asks_again = await chat.say("check my account")
    assert "card number" in texts(asks_again) or "PIN" in texts(asks_again)


async def test_an_unknown_card_and_a_cancelled_pin(chat: ChatClient) -> None:
    unknown = await sign_in(chat, "我的借阅", "99999", "whatever1")
    assert "没有这个借书证号" in texts(unknown)
    await chat.say("我的账户")
    await chat.say("29001")
    cancelled = await chat.say("取消")
    assert "已取消登录" in texts(cancelled)


async def test_the_pin_is_never_echoed_stored_or_logged(stack, chat: ChatClient) -> None:  # type: ignore[no-untyped-def]
    pin = "Zq8" + PIN_A[3:]  # a wrong PIN first, then the right one: both must vanish
    await chat.say("你好")  # the conversation exists: a second tab can join it
    other_tab = await ChatClient(stack.ws_url, session=chat.session).connect()
    assert other_tab.resumed
    try:
        await sign_in(chat, "我借了哪些书", "29001", pin)
        await chat.say("我的账户")
        account = await chat.say(PIN_A)
        assert "在借" in texts(account)
        seen_elsewhere = []
        while True:
            try:
                seen_elsewhere.append(await other_tab.next_frame(timeout=2))
            except TimeoutError:
                break
    finally:
        await other_tab.close()
    echoed = [f.get("text") for f in seen_elsewhere if f.get("speaker") == "patron"]
    assert "[PIN hidden]" in echoed
    assert not any(pin in str(f) or PIN_A in str(f) for f in seen_elsewhere)

    with stack.db() as session:
        conv = find_conversation(session, "web", chat.session)
        assert conv is not None
        lines = [(m.text, m.payload) for m in conv.messages]
    assert sum(1 for text, _ in lines if text == "[PIN hidden]") == 2
    assert not any(pin in str(line) or PIN_A in str(line) for line in lines)

    home = stack.home
    for path in [home / "tracker.db", home / "refdesk.db", stack.log, *(home / "logs").glob("*")]:
        if path.is_file():
            data = path.read_bytes()
            assert pin.encode() not in data and PIN_A.encode() not in data, path
    tracker = sqlite3.connect(home / "tracker.db")
    try:
        stored = [row[0] for row in tracker.execute("SELECT data FROM events") if row[0]]
    finally:
        tracker.close()
    with stack.db():  # the engine encrypts its events with the stack's keys
        events = " ".join(keyring().decrypt(value) for value in stored)
    assert pin not in events and PIN_A not in events
    assert "ils_login" in events  # what the engine heard instead


# --- recommend_books ---------------------------------------------------------------------------


async def test_recommendations_in_chinese_and_english(chat: ChatClient) -> None:
    zh = await chat.say("推荐几本心理学入门的书")
    text = texts(zh)
    assert "推荐理由" in text and "心理学" in text and "没有使用您过去的检索记录" in text, text
    assert "可借" in text
    en = await chat.say("any good books on psychology?")
    text = texts(en)
    assert "Why:" in text and "your past searches were not used" in text, text
    assert "on the shelf now" in text and "in English" in text


async def test_a_recommendation_without_a_topic_asks_for_one(chat: ChatClient) -> None:
    asked = await chat.say("recommend me a book")
    assert "What would you like to read about" in texts(asked)
    picks = await chat.say("science fiction")
    assert "Why:" in texts(picks) or "found nothing" in texts(picks)


# --- suggest_purchase ----------------------------------------------------------------------------


async def test_a_held_title_is_not_suggested_and_says_where(chat: ChatClient) -> None:
    await chat.say("图书馆能不能买这本书")
    await chat.say("三体")
    await chat.say("刘慈欣")
    held = await chat.say("跳过")
    assert "已经有《三体》" in texts(held) and "册可借" in texts(held)


async def test_purchase_suggestion_then_staff_decline_reaches_the_patron(stack, chat) -> None:  # type: ignore[no-untyped-def]
    first = await chat.say("i'd like to suggest a purchase")
    assert "title" in texts(first)
    await chat.say("Always Coming Home")
    await chat.say("Ursula K. Le Guin")
    await chat.say("skip")
    done = await chat.say("for my science fiction seminar")
    text = texts(done)
    assert "recorded as PS-" in text, text

    second = await ChatClient(stack.ws_url).connect()
    try:
        await second.say("图书馆能不能买这本书")
        await second.say("Always Coming Home")
        await second.say("跳过")
        await second.say("跳过")
        joined = await second.say("写论文要用")
        assert "已经有读者推荐过" in texts(joined), texts(joined)
    finally:
        await second.close()

    with stack.db() as session:
        suggestion = session.scalar(
            select(PurchaseSuggestion).where(PurchaseSuggestion.title == "Always Coming Home")
        )
        assert suggestion is not None and len(suggestion.supporters) == 2
        key = add_staff(session, "acq.admin", library_code=None, role=StaffRole.ADMIN).token
    api = httpx.Client(base_url=stack.gateway_url, headers={"Authorization": f"Bearer {key}"})
    listed = api.get("/api/acquisitions/suggestions", params={"status": "open"}).json()
    assert any(s["id"] == suggestion.id for s in listed["suggestions"])
    no_reason = api.post(f"/api/acquisitions/suggestions/{suggestion.id}/decline", json={})
    assert no_reason.status_code == 400
    declined = api.post(
        f"/api/acquisitions/suggestions/{suggestion.id}/decline",
        json={"reason": "already on order from another fund"},
    )
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert api.post(f"/api/acquisitions/suggestions/{suggestion.id}/accept").status_code == 409
    assert httpx.get(f"{stack.gateway_url}/api/acquisitions/suggestions").status_code == 401
    with stack.db() as session:
        notices = [
            body_of(m)["text"]
            for m in session.scalars(
                select(OutboundMessage).where(OutboundMessage.kind == "purchase_decision")
            )
        ]
    assert any("not accepted" in n and "another fund" in n for n in notices), notices
    assert any("没有被采纳" in n for n in notices), notices


# --- subject_librarian ------------------------------------------------------------------------------


async def test_subject_librarians_in_both_languages_with_a_handoff_button(chat, stack) -> None:  # type: ignore[no-untyped-def]
    zh = await chat.say("化学的学科馆员是谁")
    assert "张敏" in texts(zh) and "zhang.min@library.example.edu" in texts(zh)
    assert any(b["payload"] == "/human_handoff" for b in buttons(zh))
    en = await chat.say("who is the liaison librarian for economics")
    assert "Chen Xiaodong" in texts(en) and "Office hours" in texts(en)
    assert any(b["payload"] == "/human_handoff" for b in buttons(en))

    with stack.db() as session:
        key = add_staff(session, "dir.admin", library_code=None, role=StaffRole.ADMIN).token
        plain = add_staff(session, "dir.librarian", library_code=None).token
    entry = {
        "key": "music-he", "name_zh": "何静 老师", "name_en": "He Jing",
        "subjects_zh": ["音乐"], "subjects_en": ["music"],
        "email": "he.jing@library.example.edu", "languages": ["zh", "en"],
    }  # fmt: skip
    url = f"{stack.gateway_url}/api/subjects/librarians"
    refused = httpx.post(url, json=entry, headers={"Authorization": f"Bearer {plain}"})
    assert refused.status_code == 403
    added = httpx.post(url, json=entry, headers={"Authorization": f"Bearer {key}"})
    assert added.status_code == 201, added.text
    music = await chat.say("subject librarian for music")
    assert "He Jing" in texts(music)


# --- feedback ---------------------------------------------------------------------------------------------


async def test_feedback_is_acknowledged_stored_and_counted(stack, chat) -> None:  # type: ignore[no-untyped-def]
    asked = await chat.say("投诉一下")
    assert "请写下您的意见" in texts(asked)
    ack = await chat.say("三楼自习室太吵了，没人管")
    assert "已收到您的反馈" in texts(ack) and "FB-" in texts(ack) and "很抱歉" in texts(ack)
    asked = await chat.say("i want to leave feedback")
    assert "Please write your feedback" in texts(asked)
    ack = await chat.say("The staff at the help desk were wonderful, thank you")
    assert "recorded as FB-" in texts(ack) and "kind words" in texts(ack)

    with stack.db() as session:
        rows = list(session.scalars(select(Feedback).order_by(Feedback.id)))
        complaint = next(r for r in rows if "太吵" in r.text)
        assert complaint.kind == FeedbackKind.COMPLAINT and complaint.conversation_id
        key = add_staff(session, "fb.reader", library_code=None).token
    listed = httpx.get(
        f"{stack.gateway_url}/api/feedback",
        params={"kind": "complaint"},
        headers={"Authorization": f"Bearer {key}"},
    ).json()["feedback"]
    assert any(f["text"] == "三楼自习室太吵了，没人管" for f in listed)
    metrics = httpx.get(f"{stack.gateway_url}/metrics").text
    assert 'refdesk_feedback_total{kind="complaint"}' in metrics
    assert 'refdesk_feedback_total{kind="praise"}' in metrics


async def test_feedback_written_with_the_trigger_is_kept_from_the_first_message(  # type: ignore[no-untyped-def]
    stack, chat
) -> None:
    ack = await chat.say("投诉：三楼太吵了")
    assert "已收到您的反馈" in texts(ack) and "很抱歉" in texts(ack), texts(ack)
    assert "请写下您的意见" not in texts(ack)
    ack = await chat.say("complaint: the wifi keeps dropping")
    assert "recorded as FB-" in texts(ack) and "sorry" in texts(ack), texts(ack)
    assert "Please write your feedback" not in texts(ack)
    # The next message is a new question, not the feedback text the form would wait for.
    hello = await chat.say("hello")
    assert "FB-" not in texts(hello)

    with stack.db() as session:
        rows = list(session.scalars(select(Feedback).order_by(Feedback.id)))
        noise = next(r for r in rows if r.text == "三楼太吵了")
        wifi = next(r for r in rows if r.text == "the wifi keeps dropping")
        assert noise.kind == wifi.kind == FeedbackKind.COMPLAINT
        assert noise.conversation_id and noise.language == "zh" and wifi.language == "en"
        assert not any(r.text == "hello" for r in rows)
