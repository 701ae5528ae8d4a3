from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.crypto import EncryptedText
from kb.db import Base, UTCDateTime, str_enum, utcnow
from kb.patrons.models import Patron


class ConversationMode(enum.StrEnum):
    BOT = "bot"  # the dialogue model answers
    WAITING = "waiting"  # queued for a librarian; the bot still answers until claimed
    HUMAN = "human"  # a librarian owns it; the bot is silent


class Speaker(enum.StrEnum):
    PATRON = "patron"
    BOT = "bot"
    LIBRARIAN = "librarian"
    SYSTEM = "system"


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    # The id the Rasa engine knows this conversation by (see kb.patrons.sender_id).
    sender_id: Mapped[str] = mapped_column(String(64), unique=True)
    mode: Mapped[ConversationMode] = mapped_column(
        str_enum(ConversationMode), default=ConversationMode.BOT
    )
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patron: Mapped[Patron] = relationship()
    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", order_by="Message.id"
    )


class Message(Base):
    """One line of a transcript. Text is encrypted at rest."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    speaker: Mapped[Speaker] = mapped_column(str_enum(Speaker))
    text: Mapped[str] = mapped_column(EncryptedText)
    # Rendering extras (buttons, cards) and, for patron lines, what the model understood.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    # Characters the patron sent before the text was cut to max_message_chars.
    original_length: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
