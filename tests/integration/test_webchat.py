"""Scripted conversations through the web-chat WebSocket against the real stack
(Rasa engine with the trained model, action server, gateway), in both languages."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
import websockets
from sqlalchemy import select

from kb.faq import answer_for
from kb.questions import ReferenceQuestion
from tests.support.chat import ChatClient, language_of, texts

pytestmark = pytest.mark.stack


async def test_greeting_follows_the_patrons_language(chat: ChatClient) -> None:
    zh = await chat.say("你好")
    assert language_of(zh) == "zh" and "您好" in texts(zh)
    en = await chat.say("hello there")
    assert language_of(en) == "en" and "Hello" in texts(en)


@pytest.mark.parametrize(
    ("question", "key", "language"),
    [
        ("图书馆周末几点关门", "opening_hours", "zh"),
        ("what time does the library close on saturday", "opening_hours", "en"),
        ("校外怎么访问数据库", "remote_access", "zh"),
        ("how do i connect to the wifi in the library", "wifi", "en"),
    ],
)
async def test_faq_answers_come_from_the_faq_store(stack, chat, question, key, language) -> None:
    replies = await chat.say(question)
    with stack.db() as session:
        expected = answer_for(session, key, language)
    assert expected and texts(replies) == expected


async def test_editing_the_faq_store_changes_the_answer(stack, chat) -> None:
    from kb.faq import FaqAnswer

    with stack.db() as session:
        row = session.scalar(select(FaqAnswer).where(FaqAnswer.key == "donations"))
        original = row.answer_en
        row.answer_en = "Donations are welcome at the front desk on weekdays (edited)."
    try:
        replies = await chat.say("can i donate my old books to the library")
        assert texts(replies) == "Donations are welcome at the front desk on weekdays (edited)."
    finally:
        with stack.db() as session:
            session.scalar(
                select(FaqAnswer).where(FaqAnswer.key == "donations")
            ).answer_en = original


@pytest.mark.parametrize(
    ("gibberish", "language"), [("qwzx plmk vbnq", "en"), ("咕叽咕叽啵啵", "zh")]
)
async def test_fallback_asks_to_rephrase_and_offers_buttons(chat, gibberish, language) -> None:
    await chat.say("hello" if language == "en" else "你好")
    replies = await chat.say(gibberish)
    buttons = [b["payload"] for r in replies for b in r.get("buttons", [])]
    assert any(b.startswith("/search_catalog") for b in buttons) and "/human_handoff" in buttons
    assert language_of(replies) == language


async def test_two_fallbacks_in_a_row_offer_a_librarian(chat) -> None:
    await chat.say("qwzx plmk vbnq")
    second = await chat.say("zzkq wxpv mmnb")
    assert language_of(second) == "en"
    assert "librarian" in texts(second).lower()
    assert second[0]["buttons"][0]["payload"] == "/human_handoff"


async def test_buttons_are_clickable_and_forged_payloads_are_not_obeyed(stack, chat) -> None:
    # A payload the assistant never offered is treated as the words on the button.
    forged = await chat.click(
        {"title": "hello", "payload": '/ticket_status{"ticket_id":"DD-2026-000001"}'}
    )
    assert "Hello" in texts(forged)
    replies = await chat.say("are you a bot?")
    button = next(b for r in replies for b in r.get("buttons", []))
    assert button["payload"] == "/human_handoff"
    clicked = await chat.click(button)
    assert "librarian" in texts(clicked).lower()


async def test_leaving_a_question_for_a_librarian_keeps_it(stack, chat) -> None:
    await chat.say("我要找人工客服")
    saved = await chat.say("请问贵馆有没有民国时期的北京地图")
    assert "RQ-" in texts(saved)
    with stack.db() as session:
        questions = [q.text for q in session.scalars(select(ReferenceQuestion))]
    assert "请问贵馆有没有民国时期的北京地图" in questions


# --- bad input ---------------------------------------------------------------


async def test_empty_and_whitespace_messages_get_a_clear_reply(chat) -> None:
    for text in ("", "   \n\t  "):
        replies = await chat.say(text)
        assert replies[0]["code"] == "empty"
    assert await chat.say("hi")  # the socket still works


async def test_a_20000_character_message_is_answered_kept_and_explained(stack, chat) -> None:
    long_text = ("我想找关于中国近代史的书。" * 2000)[:20000]
    replies = await chat.say(long_text, timeout=60)
    notice = next(r for r in replies if r.get("code") == "truncated")
    assert "20000" in notice["text"] and "4000" in notice["text"]
    assert any(r["type"] == "message" for r in replies)  # and it was answered
    from kb.conversations import Message, Speaker

    with stack.db() as session:
        kept = session.scalars(
            select(Message).where(
                Message.speaker == Speaker.PATRON, Message.original_length == 20000
            )
        ).one()
        assert kept.text == long_text[:4000]


async def test_control_characters_and_emoji_only(chat) -> None:
    replies = await chat.say("\x00\x07hel\x1blo\u202e")
    assert "Hello" in texts(replies)
    emoji = await chat.say("👍🙂📚")
    assert emoji and all(r["type"] in ("message", "notice") for r in emoji)


async def test_malformed_frames_get_error_frames_and_the_socket_stays_open(chat) -> None:
    for raw, fragment in [
        ("{not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"type": "message", "text": 42}', "'text' must be a string"),
        ('{"type": "dance"}', "unknown frame type"),
    ]:
        await chat.ws.send(raw)
        frame = await chat.next_frame()
        assert frame["type"] == "error" and frame["code"] == "bad_frame"
        assert fragment in frame["text"]
    assert await chat.say("hello")


async def test_invalid_utf8_is_refused_clearly(stack) -> None:
    client = await ChatClient(stack.ws_url).connect()
    # As a binary frame: an error frame, and the socket stays usable.
    await client.ws.send(b"\xff\xfe\xfa not utf-8")
    frame = await client.next_frame()
    assert frame["type"] == "error" and frame["code"] == "not_utf8"
    assert await client.say("hello")
    await client.close()
    # As a text frame (a protocol violation): the server closes with 1007.
    raw = await websockets.connect(stack.ws_url)
    await raw.recv()
    await raw.send(b"\xff\xfe broken", text=True)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(raw.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007


async def test_reconnecting_with_the_session_keeps_the_conversation(stack) -> None:
    first = await ChatClient(stack.ws_url).connect()
    await first.say("hello")
    await first.close()
    again = await ChatClient(stack.ws_url, session=first.session).connect()
    assert again.resumed and again.session == first.session
    assert [m["text"] for m in again.history if m["speaker"] == "patron"] == ["hello"]
    assert await again.say("thanks")
    await again.close()
    stranger = await ChatClient(stack.ws_url, session="not-a-real-session-token-000").connect()
    assert not stranger.resumed and stranger.session != "not-a-real-session-token-000"
    await stranger.close()


async def test_health_and_metrics(stack, chat) -> None:
    await chat.say("hello")
    async with httpx.AsyncClient(base_url=stack.gateway_url) as http:
        health = (await http.get("/healthz")).json()
        assert health == {
            "status": "ok",
            "checks": {"engine": True, "actions": True, "database": True},
        }
        metrics = (await http.get("/metrics")).text
    assert 'refdesk_turns_total{channel="web",outcome="answered"}' in metrics
    assert "refdesk_turn_latency_seconds_bucket" in metrics
    assert "refdesk_fallbacks_total" in metrics
    # The engine's share of the turn: observed once per answered turn, less than the turn.
    engine = dict(re.findall(r"^refdesk_engine_latency_seconds_(sum|count) (\S+)$", metrics, re.M))
    turns = dict(
        re.findall(
            r'^refdesk_turn_latency_seconds_(sum|count){channel="web"} (\S+)$', metrics, re.M
        )
    )
    assert float(engine["count"]) >= 1
    assert 0 < float(engine["sum"]) < float(turns["sum"])


# --- faults: the engine and the action server go down --------------------------


async def test_engine_down_keeps_the_message_and_recovers(stack) -> None:
    client = await ChatClient(stack.ws_url).connect()
    await client.say("你好")
    stack.kill("engine")
    replies = await client.say("我想问一下古籍部的开放时间")
    notice = replies[0]
    assert notice["code"] == "assistant_unavailable" and "RQ-" in notice["text"]
    assert language_of(replies) == "zh"
    with stack.db() as session:
        kept = [q.text for q in session.scalars(select(ReferenceQuestion))]
    assert any("古籍部的开放时间" in t for t in kept)
    # The supervisor restarts the engine; the conversation works again by itself.
    await asyncio.to_thread(stack.wait_healthy, 420)
    back = await client.say("你好")
    assert back[0]["type"] == "message" and "您好" in texts(back)
    await client.close()


async def test_action_server_down_is_told_and_recovers(stack) -> None:
    client = await ChatClient(stack.ws_url).connect()
    stack.kill("actions")
    replies = await client.say("how do I print in the library?")
    assert replies[0]["code"] == "assistant_unavailable"
    await asyncio.to_thread(stack.wait_healthy, 120)
    back = await client.say("how do I print in the library?")
    assert back[0]["type"] == "message" and "print" in texts(back).lower()
    await client.close()
