"""Tables of the privacy room: one consent history, exports, erasures, retention runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kb.db import Base, UTCDateTime, utcnow


class ConsentEvent(Base):
    """One consent or notice event, for any purpose; per purpose the latest one counts.

    Purposes: ``processing`` (the privacy notice was shown: the conversation is
    processed to answer the patron), ``engagement`` (counting clicks on alert links and
    opens of e-mail alerts, a separate opt-in), ``personalisation`` (alert topics and past
    searches used for reading suggestions, a separate opt-in). Never assumed: no row means no consent.
    """

    __tablename__ = "privacy_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(32), default="engagement")
    granted: Mapped[bool] = mapped_column(Boolean)
    # Where it was given or withdrawn (the chat channel, a web page, staff) and the text shown.
    source: Mapped[str] = mapped_column(String(32))
    wording: Mapped[str | None] = mapped_column(Text)
    # Version of the wording shown, so a new notice version is shown once again.
    version: Mapped[str | None] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DataExport(Base):
    """A patron's request for their data: a one-time download link, until it expires."""

    __tablename__ = "privacy_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Erasure(Base):
    """That a patron was forgotten: when, from which channel, how much. No identity."""

    __tablename__ = "privacy_erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    source: Mapped[str] = mapped_column(String(32))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RetentionRun(Base):
    """One run of the retention job: when, with which limits, what it purged."""

    __tablename__ = "retention_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    limits: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PageLink(Base):
    """A one-time link to the patron's privacy page, sent in chat (Telegram, WeChat, web)."""

    __tablename__ = "privacy_page_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
