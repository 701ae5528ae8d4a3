"""Database steps behind the Telegram commands (run via bot.db.Database)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.channels.telegram import CHANNEL
from kb.conversations import conversation_for, recent_messages
from kb.conversations.models import Speaker
from kb.db import utcnow
from kb.outbound import OutboundMessage, OutboundStatus
from kb.patrons import identity_for


def language_of(session: Session, chat_id: str) -> str | None:
    conv = conversation_for(session, CHANNEL, chat_id)
    return conv.language or conv.patron.language


def seen(session: Session, chat_id: str) -> None:
    """The patron wrote to us: this chat is reachable again (they unblocked the bot)."""
    identity = identity_for(session, CHANNEL, chat_id)
    if not identity.reachable:
        identity.reachable = True
        identity.unreachable_reason = None
        identity.unreachable_at = None


def mark_unreachable(session: Session, chat_id: str, reason: str) -> None:
    identity = identity_for(session, CHANNEL, chat_id)
    identity.reachable = False
    identity.unreachable_reason = reason[:200]
    identity.unreachable_at = utcnow()


def toggle_language(session: Session, chat_id: str, default: str) -> str:
    """zh <-> en for this patron (the replies also follow the language they write in)."""
    conv = conversation_for(session, CHANNEL, chat_id)
    current = conv.language or conv.patron.language or default
    new = "en" if current == "zh" else "zh"
    conv.language = new
    conv.patron.language = new
    return new


def set_pushes(session: Session, chat_id: str, enabled: bool) -> str | None:
    """/stop and /start: pushes to this chat off or on; returns the patron's language."""
    identity = identity_for(session, CHANNEL, chat_id)
    identity.push_enabled = enabled
    if enabled:
        identity.reachable = True
        identity.unreachable_reason = None
    conv = conversation_for(session, CHANNEL, chat_id)
    return conv.language or conv.patron.language


def subscriptions(session: Session, chat_id: str) -> tuple[bool, int, str | None]:
    """(pushes on, messages waiting for this patron, language)."""
    identity = identity_for(session, CHANNEL, chat_id)
    queued = session.scalar(
        select(func.count())
        .select_from(OutboundMessage)
        .where(
            OutboundMessage.patron_id == identity.patron_id,
            OutboundMessage.status.in_([OutboundStatus.QUEUED, OutboundStatus.SENDING]),
        )
    )
    conv = conversation_for(session, CHANNEL, chat_id)
    return identity.push_enabled, int(queued or 0), conv.language or conv.patron.language


def offered_payloads(session: Session, chat_id: str, window: int = 20) -> list[str]:
    """Button payloads the assistant offered recently in this chat (newest first)."""
    conv = conversation_for(session, CHANNEL, chat_id)
    payloads: list[str] = []
    for m in reversed(recent_messages(session, conv, limit=window * 2)):
        if m.speaker == Speaker.BOT and m.payload:
            payloads.extend(m.payload.get("payloads", []))
    return payloads
