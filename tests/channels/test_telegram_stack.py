"""Telegram through the real stack: `refdesk up` (trained model, action server, gateway
long-polling the fake Bot API), conversations in Chinese and English, a button click,
and a push from the outbound queue sent by the gateway's worker."""

from __future__ import annotations

import pytest

from kb.conversations import conversation_for
from kb.faq import answer_for
from kb.language import detect_language
from kb.outbound import OutboundStatus, enqueue
from tests.fixtures.fake_telegram import FakeTelegram

pytestmark = pytest.mark.stack


def _say(fake: FakeTelegram, chat_id: int, text: str, timeout: float = 60) -> list[dict]:
    """Send a message and wait for the bot's answer (all messages of the turn)."""
    before = len(fake.sent(chat_id))
    fake.message(chat_id, text)
    fake.wait_for(lambda: len(fake.sent(chat_id)) > before, timeout)
    fake.wait_for(lambda: _quiet(fake, chat_id), timeout)  # the turn's last message
    return [c.params for c in fake.sent(chat_id)[before:]]


def _quiet(fake: FakeTelegram, chat_id: int, seconds: float = 0.8) -> bool:
    import time

    sent = fake.sent(chat_id)
    return bool(sent) and time.monotonic() - sent[-1].at > seconds


def _text(replies: list[dict]) -> str:
    return "\n".join(r["text"] for r in replies)


def test_a_chinese_conversation_on_telegram(stack) -> None:
    fake, chat = stack.telegram, 6001
    greeting = _say(fake, chat, "你好")
    assert "您好" in _text(greeting) and detect_language(_text(greeting)) == "zh"
    answer = _say(fake, chat, "图书馆周末几点关门")
    with stack.db() as session:
        assert _text(answer) == answer_for(session, "opening_hours", "zh")


def test_an_english_conversation_with_a_button_click(stack) -> None:
    fake, chat = stack.telegram, 6002
    greeting = _say(fake, chat, "hello there")
    assert "Hello" in _text(greeting)
    answer = _say(fake, chat, "what time does the library close on saturday")
    with stack.db() as session:
        assert _text(answer) == answer_for(session, "opening_hours", "en")

    fallback = _say(fake, chat, "qwzx plmk vbnq")
    keyboards = [r for r in fallback if r.get("reply_markup")]
    assert keyboards, fallback
    rows = keyboards[-1]["reply_markup"]["inline_keyboard"]
    handoff = next(b[0] for b in rows if b[0]["callback_data"] == "p:/human_handoff")
    before = len(fake.sent(chat))
    fake.callback(chat, handoff["callback_data"], keyboards[-1]["_message"])
    fake.wait_for(lambda: len(fake.sent(chat)) > before, 60)
    assert fake.of("answerCallbackQuery")
    assert "librarian" in _text([c.params for c in fake.sent(chat)[before:]]).lower()


def test_a_push_is_delivered_by_the_gateways_worker(stack) -> None:
    fake, chat = stack.telegram, 6003
    _say(fake, chat, "hello")
    with stack.db() as session:
        patron = conversation_for(session, "telegram", str(chat)).patron_id
        message = enqueue(
            session, patron, "DD-000042: your copy is ready.", kind="ticket", dedupe_key="e2e:1"
        )
        message_id = message.id
    fake.wait_for(lambda: any("DD-000042" in c.params["text"] for c in fake.sent(chat)), 30)

    def sent() -> bool:
        from kb.outbound import OutboundMessage

        with stack.db() as session:
            return session.get(OutboundMessage, message_id).status == OutboundStatus.SENT

    fake.wait_for(sent, 10)


async def test_a_push_reaches_an_open_web_chat_tab(stack, chat) -> None:
    await chat.say("hello")
    with stack.db() as session:
        patron = conversation_for(session, "web", chat.session).patron_id
        enqueue(session, patron, "RQ-000001: a librarian answered your question.", kind="question")
    frame = await chat.next_frame(30)
    assert frame["type"] == "message" and frame.get("push") == "question"
    assert frame["text"].startswith("RQ-000001")
