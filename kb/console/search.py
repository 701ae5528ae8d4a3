"""Transcript search. Lines are encrypted at rest, so the database cannot match them:
the live chats of the last ``days`` are decrypted and matched here (case-insensitive),
which is fine for a desk's volume."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.console.models import LiveChat
from kb.conversations.models import Message
from kb.db import utcnow


def search_transcripts(
    session: Session, query: str, *, days: int = 90, limit: int = 50
) -> list[dict[str, Any]]:
    needle = query.strip().casefold()
    if not needle:
        return []
    since = utcnow() - timedelta(days=days)
    chats = session.scalars(
        select(LiveChat).where(LiveChat.requested_at >= since).order_by(LiveChat.id.desc())
    ).all()
    hits: list[dict[str, Any]] = []
    seen: set[int] = set()
    for chat in chats:
        if chat.conversation_id in seen:
            continue
        seen.add(chat.conversation_id)
        lines = session.scalars(
            select(Message).where(Message.conversation_id == chat.conversation_id)
        ).all()
        for line in lines:
            if needle in line.text.casefold():
                hits.append(
                    {
                        "chat": chat.id,
                        "speaker": line.speaker.value,
                        "text": line.text[:300],
                        "at": line.created_at.isoformat(),
                    }
                )
                break
        if len(hits) >= limit:
            break
    return hits
