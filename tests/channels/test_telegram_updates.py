"""Patron messages on Telegram: text, commands, buttons, edits, media, groups, faults."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.channels.telegram import CHANNEL
from bot.channels.telegram import texts as tg_texts
from kb.conversations import find_conversation, recent_messages
from kb.patrons import identity_for
from kb.patrons.models import ChannelIdentity
from kb.privacy import notice
from tests.channels.conftest import LONG_PAYLOAD, Harness


def _identity(h: Harness, chat_id: int) -> ChannelIdentity:
    return h.db.run_sync(lambda s: _detached(identity_for(s, CHANNEL, str(chat_id))))


def _detached(identity: ChannelIdentity) -> ChannelIdentity:
    identity.external_id  # noqa: B018  (load before the session closes)
    return identity


async def test_text_goes_through_the_router_and_is_kept(telegram: Harness) -> None:
    telegram.fake.message(1001, "hello there")
    assert await telegram.replies(1001) == ["Hello! How can I help?"]
    assert telegram.engine.seen == ["hello there"]

    def transcript(session):  # type: ignore[no-untyped-def]
        conv = find_conversation(session, CHANNEL, "1001")
        return [(m.speaker.value, m.text) for m in recent_messages(session, conv)]

    assert telegram.db.run_sync(transcript) == [
        ("patron", "hello there"),
        ("bot", "Hello! How can I help?"),
    ]


async def test_start_and_help_are_bilingual_until_the_language_is_known(telegram) -> None:
    telegram.fake.command(1002, "start")
    (start,) = await telegram.replies(1002)
    assert start == tg_texts.text("start", None) and "您好" in start and "Hello" in start
    telegram.fake.message(1002, "你好")
    await telegram.replies(1002, 2)
    telegram.fake.command(1002, "help")
    replies = await telegram.replies(1002, 3)
    assert replies[2] == tg_texts.text("help", "zh")
    telegram.fake.command(1002, "frobnicate")
    replies = await telegram.replies(1002, 4)
    assert replies[3] == tg_texts.text("unknown_command", "zh")
    assert telegram.engine.seen == ["你好"]  # commands never reach the model as text


async def test_language_toggles_and_stop_and_start_switch_pushes(telegram: Harness) -> None:
    fake = telegram.fake
    fake.message(1003, "hello")
    await telegram.replies(1003)
    fake.command(1003, "language")
    assert (await telegram.replies(1003, 2))[1] == tg_texts.text("language_set", "zh")
    fake.command(1003, "language")
    assert (await telegram.replies(1003, 3))[2] == tg_texts.text("language_set", "en")

    fake.command(1003, "stop")
    assert (await telegram.replies(1003, 4))[3] == tg_texts.text("stopped", "en")
    assert _identity(telegram, 1003).push_enabled is False
    fake.command(1003, "subscriptions")
    assert (await telegram.replies(1003, 5))[4] == tg_texts.text("subscriptions_off", "en")

    fake.command(1003, "start")
    await telegram.replies(1003, 6)
    assert _identity(telegram, 1003).push_enabled is True
    fake.command(1003, "subscriptions")
    assert (await telegram.replies(1003, 7))[6] == tg_texts.text("subscriptions_on", "en", queued=0)


async def test_buttons_become_an_inline_keyboard_and_clicks_are_answered(telegram) -> None:
    fake = telegram.fake
    fake.message(1004, "show me buttons")
    await telegram.replies(1004)
    sent = fake.sent(1004)[0]
    markup = sent.params["reply_markup"]
    rows = markup["inline_keyboard"]
    assert [r[0]["text"] for r in rows] == ["Search the catalog", "数据库系统概念"]
    assert rows[0][0]["callback_data"] == "p:/search_catalog"
    # Rasa payloads over Telegram's 64 bytes travel as a hash of the offered payload.
    assert rows[1][0]["callback_data"].startswith("h:")
    assert all(len(r[0]["callback_data"].encode()) <= 64 for r in rows)

    message = sent.params["_message"]
    fake.callback(1004, rows[0][0]["callback_data"], message)
    assert (await telegram.replies(1004, 2))[1] == "clicked /search_catalog"
    fake.callback(1004, rows[1][0]["callback_data"], message)
    assert (await telegram.replies(1004, 3))[2] == f"clicked {LONG_PAYLOAD}"
    answered = fake.of("answerCallbackQuery")
    assert len(answered) == 2 and all(c.status == 200 for c in answered)
    assert telegram.engine.seen[1:] == ["/search_catalog", LONG_PAYLOAD]


async def test_forged_or_stale_callback_data_is_not_obeyed(telegram: Harness) -> None:
    fake = telegram.fake
    fake.message(1005, "show me buttons")
    await telegram.replies(1005)
    message = fake.sent(1005)[0].params["_message"]
    fake.callback(1005, "h:" + "0" * 32, message)
    assert (await telegram.replies(1005, 2))[1] == tg_texts.text("button_expired", "en")
    # A payload we never offered counts as the words on the button (here: none -> payload text).
    fake.callback(1005, "p:/restart", message)
    await telegram.replies(1005, 3)
    assert "/restart" not in telegram.engine.seen
    assert len(fake.of("answerCallbackQuery")) == 2


async def test_an_edited_message_is_answered_as_new_text(telegram: Harness) -> None:
    fake = telegram.fake
    first = fake.message(1006, "opening hous")
    await telegram.replies(1006)
    fake.edited(1006, first["message"]["message_id"], "opening hours")
    assert (await telegram.replies(1006, 2))[1] == "You said: opening hours"


async def test_photos_stickers_voice_and_files_get_a_text_only_reply(telegram) -> None:
    fake = telegram.fake
    fake.message(1007, "hello")
    await telegram.replies(1007)
    fake.photo(1007, caption="what is this book?")
    fake.sticker(1007)
    fake.voice(1007)
    fake.document(1007)
    replies = await telegram.replies(1007, 5)
    assert replies[1:] == [tg_texts.text("text_only", "en")] * 4
    assert telegram.engine.seen == ["hello"]  # media never reaches the model


async def test_groups_answer_only_mentions_and_replies(telegram: Harness) -> None:
    fake, group = telegram.fake, -100200
    fake.group_message(group, "anyone read the new issue?")
    fake.group_message(group, "hello everyone")
    fake.photo(group)
    await telegram.settle(1.5)
    assert fake.sent(group) == [] and telegram.engine.seen == []

    fake.group_message(group, "hello, when do you open?", mention=True)
    assert (await telegram.replies(group))[0] == "Hello! How can I help?"
    assert telegram.engine.seen == ["hello, when do you open?"]  # the mention is removed

    bot_message = fake.sent(group)[0].params["_message"]
    fake.group_message(group, "thanks, and on Sunday?", reply_to=bot_message)
    assert (await telegram.replies(group, 2))[1] == "You said: thanks, and on Sunday?"
    # A reply to another member is not for us.
    other = fake.group_message(group, "x")["message"]
    fake.group_message(group, "I agree", reply_to=other)
    await telegram.settle(1.0)
    assert len(await telegram.replies(group, 2)) == 2  # the notice aside, nothing new


async def test_a_429_is_honoured_before_sending_again(telegram: Harness) -> None:
    fake = telegram.fake
    fake.fail_next("sendMessage", 429, retry_after=2, chat_id=1008)
    fake.message(1008, "hello")
    (reply,) = await telegram.replies(1008, timeout=15)
    assert reply == "Hello! How can I help?"
    tries = [c for c in fake.of("sendMessage") if c.params.get("chat_id") == 1008]
    assert [c.status for c in tries] == [429, 200]
    assert tries[1].at - tries[0].at >= 2.0


async def test_a_403_marks_the_chat_unreachable_until_the_patron_writes(telegram) -> None:
    fake = telegram.fake
    fake.message(1009, "hello")
    await telegram.replies(1009)
    fake.block(1009)
    fake.message(1009, "hello again")
    await telegram.until(lambda: not _identity(telegram, 1009).reachable)
    identity = _identity(telegram, 1009)
    assert "blocked" in (identity.unreachable_reason or "")
    fake._blocked.clear()  # they unblock the bot and write again
    fake.message(1009, "hi")
    await telegram.replies(1009, 2)
    assert _identity(telegram, 1009).reachable is True


async def test_group_messages_are_kept_in_one_group_conversation(telegram: Harness) -> None:
    fake, group = telegram.fake, -100300
    fake.group_message(group, "hello", user_id=1, mention=True)
    fake.group_message(group, "hi", user_id=2, mention=True)
    await telegram.replies(group, 2)

    def count(session):  # type: ignore[no-untyped-def]
        return len(session.scalars(select(ChannelIdentity)).all())

    assert telegram.db.run_sync(count) == 1
    assert json.dumps(fake.sent(group)[0].params["chat_id"]) == str(group)


async def test_the_privacy_notice_follows_the_first_answer_once(telegram: Harness) -> None:
    def all_sent() -> list[str]:
        return [c.params["text"] for c in telegram.fake.sent(1009)]

    telegram.fake.message(1009, "hello there")
    await telegram.until(lambda: len(all_sent()) >= 2)
    assert all_sent() == ["Hello! How can I help?", notice.text("en")]
    telegram.fake.message(1009, "hello again")
    await telegram.replies(1009, 2)
    await telegram.settle()
    assert all_sent().count(notice.text("en")) == 1


async def test_privacy_command_answers_with_the_consents_and_a_one_time_link(telegram) -> None:
    from kb.privacy import page_links

    telegram.fake.message(1090, "hello")
    await telegram.replies(1090)
    telegram.fake.command(1090, "privacy")
    replies = await telegram.replies(1090, 2)
    answer = next(r for r in replies if "privacy settings" in r)
    assert "· Privacy notice: shown (since " in answer
    assert "· Personalised reading suggestions: not granted" in answer
    token = answer.rsplit("/privacy/me/", 1)[1].strip()
    assert telegram.engine.seen == ["hello"]  # the command never reaches the model

    def opened(session):  # type: ignore[no-untyped-def]
        conv = find_conversation(session, CHANNEL, "1090")
        kept = [m.text for m in recent_messages(session, conv)]
        return conv.patron_id, kept, page_links.redeem(session, token)

    patron_id, kept, redeemed = telegram.db.run_sync(opened)
    assert redeemed == patron_id  # the link opens this patron's page...
    assert "/privacy" in kept and any("[link hidden]" in k for k in kept)
    assert not any(token in k for k in kept)  # ...and is not in the transcript
    with pytest.raises(page_links.LinkUsed):  # once only
        telegram.db.run_sync(lambda s: page_links.redeem(s, token))
