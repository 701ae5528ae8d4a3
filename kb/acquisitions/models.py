"""Purchase suggestions patrons make in chat, and the librarians' decisions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.crypto import EncryptedText
from kb.db import Base, UTCDateTime, str_enum, utcnow


class SuggestionStatus(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class PurchaseSuggestion(Base):
    __tablename__ = "purchase_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    isbn: Mapped[str | None] = mapped_column(String(13), index=True)  # normalised ISBN-13
    # Normalised title (+ author) for spotting the same suggestion made twice.
    match_key: Mapped[str] = mapped_column(String(200), index=True)
    # Why the patron wants it (may say something about them: encrypted).
    reason: Mapped[str | None] = mapped_column(EncryptedText)
    language: Mapped[str | None] = mapped_column(String(8))
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id", ondelete="SET NULL"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    status: Mapped[SuggestionStatus] = mapped_column(
        str_enum(SuggestionStatus), default=SuggestionStatus.OPEN, index=True
    )
    decision_note: Mapped[str | None] = mapped_column(Text)  # the reason given to patrons
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    supporters: Mapped[list[PurchaseSupporter]] = relationship(
        back_populates="suggestion", cascade="all, delete-orphan", order_by="PurchaseSupporter.id"
    )

    @property
    def reference(self) -> str:
        """The number quoted to patrons, e.g. PS-000012."""
        return f"PS-{self.id:06d}"


class PurchaseSupporter(Base):
    """A patron who asked for the item (the first suggester too); each hears the outcome."""

    __tablename__ = "purchase_supporters"
    __table_args__ = (UniqueConstraint("suggestion_id", "patron_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(
        ForeignKey("purchase_suggestions.id", ondelete="CASCADE"), index=True
    )
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    suggestion: Mapped[PurchaseSuggestion] = relationship(back_populates="supporters")
