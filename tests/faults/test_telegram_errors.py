"""Telegram answering 429 (with retry_after) and 5xx to the bot's replies, over the
suite's shared stack (real engine, gateway long-polling the fake Bot API). The reply
waits as told, is retried, and reaches the patron exactly once."""

from __future__ import annotations

import pytest

from kb.privacy import notice
from tests.fixtures.fake_telegram import FakeTelegram

PRIVACY_NOTICES = {notice.text(language) for language in ("zh", "en", None)}

pytestmark = pytest.mark.stack


def _answers(fake: FakeTelegram, chat_id: int) -> list:  # type: ignore[type-arg]
    """Tries to send the answer (the privacy notice that follows a first answer aside)."""
    return [
        c
        for c in fake.of("sendMessage")
        if c.params.get("chat_id") == chat_id and c.params.get("text") not in PRIVACY_NOTICES
    ]


def test_a_429_is_waited_out_and_the_reply_arrives_once(stack) -> None:
    fake, chat = stack.telegram, 6101
    fake.fail_next("sendMessage", 429, retry_after=3, chat_id=chat)
    fake.message(chat, "hello")
    fake.wait_for(lambda: [c for c in _answers(fake, chat) if c.status == 200], timeout=90)
    tries = _answers(fake, chat)
    assert [c.status for c in tries] == [429, 200]
    assert tries[1].at - tries[0].at >= 3.0
    assert "Hello" in tries[1].params["text"]


def test_5xx_replies_go_to_the_outbound_queue_and_arrive_once(stack) -> None:
    fake, chat = stack.telegram, 6102
    fake.fail_next("sendMessage", 502, chat_id=chat, count=2)
    fake.message(chat, "hello")
    # The notice that follows a first answer may overtake the answer while it is retried.
    delivered = fake.wait_for(
        lambda: [c for c in _answers(fake, chat) if c.status == 200], timeout=120
    )
    assert "Hello" in delivered[0].params["text"]
    tries = _answers(fake, chat)
    assert [c.status for c in tries] == [502, 502, 200]
    # Exactly once: the worker does not send it again.
    import time

    time.sleep(3)
    assert [c.status for c in _answers(fake, chat)] == [502, 502, 200]
    from kb.outbound import OutboundMessage, OutboundStatus

    with stack.db() as session:
        queued = [m for m in session.query(OutboundMessage).all() if m.kind == "reply"]
        assert any(m.status == OutboundStatus.SENT and m.attempts >= 1 for m in queued)
