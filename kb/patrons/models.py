from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.crypto import EncryptedText
from kb.db import Base, UTCDateTime, utcnow


class Patron(Base):
    __tablename__ = "patrons"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Reply language the patron last used or chose ("zh" / "en").
    language: Mapped[str | None] = mapped_column(String(8))
    # Contact data is encrypted at rest; email_index is a keyed hash for look-ups.
    name: Mapped[str | None] = mapped_column(EncryptedText)
    email: Mapped[str | None] = mapped_column(EncryptedText)
    email_index: Mapped[str | None] = mapped_column(String(64), index=True)
    phone: Mapped[str | None] = mapped_column(EncryptedText)
    # Member library the patron belongs to (library code), if known.
    home_library: Mapped[str | None] = mapped_column(String(32))
    # Channel the patron wants pushes on ("telegram", "wechat", "web"); None = the one
    # they used last. The outbound worker falls back to any other reachable channel.
    preferred_channel: Mapped[str | None] = mapped_column(String(16))

    identities: Mapped[list[ChannelIdentity]] = relationship(
        back_populates="patron", cascade="all, delete-orphan"
    )


class ChannelIdentity(Base):
    """One way of reaching a patron: (channel, the channel's own user id)."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "external_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # web / telegram / wechat / email
    # The channel's user id is personal data: stored encrypted, found by keyed hash.
    external_id: Mapped[str] = mapped_column(EncryptedText)
    external_index: Mapped[str] = mapped_column(String(64))
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    # Why and since when not (e.g. Telegram 403 "bot was blocked by the user"); writing
    # to us again makes the identity reachable again.
    unreachable_reason: Mapped[str | None] = mapped_column(String(200))
    unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The patron's /stop: no pushes to this identity (live replies still answer them).
    push_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patron: Mapped[Patron] = relationship(back_populates="identities")
