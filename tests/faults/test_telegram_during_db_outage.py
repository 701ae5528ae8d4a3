"""A Telegram message arriving while PostgreSQL is stopped (the faults stack's gateway
long-polls a fake Bot API). The patron sees the "not saved yet, please send it again"
message, in the language they wrote in, quoting the message to send again; nothing of
it is half-kept; once the database is back, sending it again is kept once and answered."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select

from bot.texts import TEXTS
from kb.privacy import notice
from tests.fixtures.fake_telegram import FakeTelegram

pytestmark = pytest.mark.stack

PRIVACY_NOTICES = {notice.text(language) for language in ("zh", "en", None)}


def _seen(fake: FakeTelegram, chat_id: int) -> list[dict]:  # type: ignore[type-arg]
    """What the patron got, in order (the privacy notice of a first contact aside)."""
    return [c.params for c in fake.sent(chat_id) if c.params["text"] not in PRIVACY_NOTICES]


def _patron_lines(stack, chat_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    from kb.conversations import Message, Speaker, find_conversation

    with stack.db() as session:
        conv = find_conversation(session, "telegram", str(chat_id))
        assert conv is not None
        rows = session.scalars(
            select(Message)
            .where(Message.conversation_id == conv.id, Message.speaker == Speaker.PATRON)
            .order_by(Message.id)
        )
        return [m.text for m in rows]


@pytest.mark.parametrize(
    ("chat_id", "text", "language"),
    [
        (7101, "Please keep this: I need the 1930s Shanghai newspapers on microfilm", "en"),
        (7102, "请帮我留着：我想查民国时期的北京地图", "zh"),
    ],
)
async def test_a_telegram_message_during_a_database_outage_is_handed_back(
    pg_stack,  # type: ignore[no-untyped-def]
    chat_id: int,
    text: str,
    language: str,
) -> None:
    fake: FakeTelegram = pg_stack.telegram
    fake.message(chat_id, "hello")
    await asyncio.to_thread(fake.wait_for, lambda: _seen(fake, chat_id), 90)

    await asyncio.to_thread(pg_stack.postgres.stop)
    try:
        sent = fake.message(chat_id, text)
        got = await asyncio.to_thread(fake.wait_for, lambda: _seen(fake, chat_id)[1:], 90)
    finally:
        await asyncio.to_thread(pg_stack.postgres.start)
    (refused,) = got
    zh, en = TEXTS["storage_unavailable"]
    expected = (zh if language == "zh" else en).split("{")[0]
    assert refused["text"].startswith(expected), refused["text"]
    assert "Traceback" not in refused["text"]
    # It quotes the very message to send again.
    quoted = refused["reply_parameters"]
    quoted = json.loads(quoted) if isinstance(quoted, str) else quoted
    assert quoted["message_id"] == sent["message"]["message_id"]
    assert _patron_lines(pg_stack, chat_id) == ["hello"]  # nothing half-kept

    # Sent again once the database is back: kept once, and answered.
    fake.message(chat_id, text)
    answered = await asyncio.to_thread(fake.wait_for, lambda: _seen(fake, chat_id)[2:], 90)
    assert answered and "数据库暂时不可用" not in answered[0]["text"]
    assert "database is briefly unavailable" not in answered[0]["text"]
    assert _patron_lines(pg_stack, chat_id) == ["hello", text]
