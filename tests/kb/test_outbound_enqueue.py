"""Queueing messages for patrons: idempotent by key, encrypted at rest, bad input named."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from kb.conversations import conversation_for
from kb.outbound import OutboundMessage, OutboundStatus, enqueue
from kb.outbound.service import OutboundError, body_of


def test_same_dedupe_key_queues_one_message(session, backend) -> None:
    patron_id = conversation_for(session, "web", "s1").patron_id
    first = enqueue(
        session, patron_id, "您的文献传递已完成", kind="ticket", dedupe_key="ticket:1:completed"
    )
    again = enqueue(
        session, patron_id, "您的文献传递已完成", kind="ticket", dedupe_key="ticket:1:completed"
    )
    session.commit()
    assert first.id == again.id
    assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 1
    assert first.status == OutboundStatus.QUEUED
    assert body_of(first) == {"text": "您的文献传递已完成", "buttons": []}


def test_message_text_is_encrypted_at_rest(session, backend) -> None:
    patron_id = conversation_for(session, "web", "s2").patron_id
    enqueue(session, patron_id, "Your copy of Nature 521 is ready", kind="ticket")
    session.commit()
    raw = session.execute(text("SELECT body FROM outbound_messages")).scalar_one()
    assert "Nature" not in raw and raw.startswith("enc1:")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"text": "  "}, "text"), ({"text": "hi", "buttons": [{"title": "x"}]}, "buttons[0]")],
)
def test_bad_messages_are_refused_naming_the_field(session, kwargs, field) -> None:
    patron_id = conversation_for(session, "web", "s3").patron_id
    with pytest.raises(OutboundError, match=field.replace("[", r"\[").replace("]", r"\]")):
        enqueue(session, patron_id, kind="system", **kwargs)
