"""Feedback about the library's service: complaints, praise, suggestions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from kb.crypto import EncryptedText
from kb.db import Base, UTCDateTime, str_enum, utcnow


class FeedbackKind(enum.StrEnum):
    COMPLAINT = "complaint"
    PRAISE = "praise"
    SUGGESTION = "suggestion"
    OTHER = "other"


class FeedbackStatus(enum.StrEnum):
    NEW = "new"
    SEEN = "seen"  # a librarian read it
    HANDLED = "handled"  # a librarian dealt with it (and may have left a note)


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[FeedbackKind] = mapped_column(str_enum(FeedbackKind), index=True)
    text: Mapped[str] = mapped_column(EncryptedText)
    language: Mapped[str | None] = mapped_column(String(8))
    channel: Mapped[str | None] = mapped_column(String(16))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id", ondelete="SET NULL"))
    status: Mapped[FeedbackStatus] = mapped_column(
        str_enum(FeedbackStatus), default=FeedbackStatus.NEW, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Who read / handled it, when, and what was done (the note may name the patron).
    seen_by: Mapped[str | None] = mapped_column(String(100))
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_by: Mapped[str | None] = mapped_column(String(100))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(EncryptedText)

    @property
    def reference(self) -> str:
        return f"FB-{self.id:06d}"
