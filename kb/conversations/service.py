from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.conversations.models import Conversation, Message, Speaker
from kb.db import utcnow
from kb.patrons.service import identity_for, sender_id


def conversation_for(session: Session, channel: str, external_id: str) -> Conversation:
    """The conversation of this channel user, created with its patron on first contact."""
    sid = sender_id(channel, external_id)
    conv = session.scalar(select(Conversation).where(Conversation.sender_id == sid))
    if conv is not None:
        return conv
    identity = identity_for(session, channel, external_id)
    conv = Conversation(patron_id=identity.patron_id, channel=channel, sender_id=sid)
    session.add(conv)
    session.flush()
    return conv


def record_message(
    session: Session,
    conv: Conversation,
    speaker: Speaker,
    text: str,
    *,
    payload: dict[str, Any] | None = None,
    intent: str | None = None,
    confidence: float | None = None,
    original_length: int | None = None,
) -> Message:
    msg = Message(
        conversation_id=conv.id,
        speaker=speaker,
        text=text,
        payload=payload,
        intent=intent,
        confidence=confidence,
        original_length=original_length,
    )
    session.add(msg)
    conv.last_activity_at = utcnow()
    session.flush()
    return msg


def recent_messages(session: Session, conv: Conversation, limit: int = 50) -> list[Message]:
    rows = session.scalars(
        select(Message)
        .where(Message.conversation_id == conv.id)
        .order_by(Message.id.desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))


def find_conversation(session: Session, channel: str, external_id: str) -> Conversation | None:
    """The conversation of this channel user if there is one (never creates)."""
    sid = sender_id(channel, external_id)
    return session.scalar(select(Conversation).where(Conversation.sender_id == sid))
