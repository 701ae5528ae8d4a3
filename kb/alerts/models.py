"""Tables of topical alerts.

A patron has one :class:`Subscriber` row (how and when alerts reach them) and any
number of :class:`SubscriptionTopic` rows (a CLC class or a free keyword). Things to
announce are :class:`AlertItem` rows, tagged with topic codes and terms; matching
writes one :class:`AlertDelivery` per (subscriber, item) — the unique constraint is
what makes every alert exactly-once — and :class:`AlertCursor` rows remember how far
each ingestion source and the matcher have got.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.db import Base, UTCDateTime, str_enum, utcnow
from kb.patrons.models import Patron


class Frequency(enum.StrEnum):
    INSTANT = "instant"
    DAILY = "daily"
    WEEKLY = "weekly"


class TopicKind(enum.StrEnum):
    CLASS = "class"  # a CLC class of the vocabulary
    KEYWORD = "keyword"  # a free keyword (normalised)


class ItemKind(enum.StrEnum):
    RECORD = "record"  # a new catalog record
    HOLDING = "holding"  # new copies of a record in a member library
    NEWS = "news"  # library news / event from a feed
    ANNOUNCEMENT = "announcement"  # written by a librarian for a topic audience


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # matched, waiting for its time (instant, digest, quiet hours)
    QUEUED = "queued"  # in the outbound queue
    DROPPED = "dropped"  # not sent: unsubscribed meanwhile, item withdrawn


class Subscriber(Base):
    __tablename__ = "alert_subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(
        ForeignKey("patrons.id", ondelete="CASCADE"), unique=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    frequency: Mapped[Frequency] = mapped_column(str_enum(Frequency), default=Frequency.INSTANT)
    language: Mapped[str] = mapped_column(String(8), default="zh")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # Local "HH:MM" window in which nothing is sent (may span midnight); None = none.
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    # A channel to insist on ("email", "telegram" ...); None = the patron's usual one.
    channel: Mapped[str | None] = mapped_column(String(16))
    # Local hour digests go out at, learned from consented clicks; None = the default.
    best_hour: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    patron: Mapped[Patron] = relationship()
    topics: Mapped[list[SubscriptionTopic]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", order_by="SubscriptionTopic.id"
    )


class SubscriptionTopic(Base):
    __tablename__ = "alert_topics"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "kind", "value"),
        # The inverted index: topic -> subscribers.
        Index("ix_alert_topics_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("alert_subscribers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[TopicKind] = mapped_column(str_enum(TopicKind))
    value: Mapped[str] = mapped_column(String(100))  # CLC code or normalised keyword
    # The patron's own words for it, shown back to them.
    words: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    subscriber: Mapped[Subscriber] = relationship(back_populates="topics")


class AlertItem(Base):
    __tablename__ = "alert_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ItemKind] = mapped_column(str_enum(ItemKind))
    # What it is, so ingesting it again finds the same row: record:<id>,
    # holding:<record id>:<library>, news:<feed>:<entry id>, announcement:<id>.
    source_key: Mapped[str] = mapped_column(String(300), unique=True)
    record_id: Mapped[int | None] = mapped_column(
        ForeignKey("records.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(Text)
    # Bilingual announcements carry both; catalog and feed items the source's text.
    title_en: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    summary_en: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    library_code: Mapped[str | None] = mapped_column(String(32))
    # Record items: the libraries that held it when it was announced, so copies that
    # arrive later elsewhere are news and these are not announced again.
    libraries: Mapped[list[str]] = mapped_column(JSON, default=list)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)  # vocabulary codes
    terms: Mapped[list[str]] = mapped_column(JSON, default=list)  # normalised words
    # Announcements go to exactly this audience (topic codes / keywords) when set.
    audience: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Not matched before this time (scheduled announcements).
    publish_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(64))
    # Set in the transaction that wrote the item's deliveries: the matcher's durable
    # mark (an item without it is matched on the next run, however the last one ended).
    matched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class AlertDelivery(Base):
    """One item for one subscriber. Unique: that is the exactly-once guarantee."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "item_id"),
        Index("ix_alert_deliveries_status_due", "status", "due_at"),
        # A subscriber's pending, due deliveries (queueing reads and claims by it; with
        # only the status index SQLite scanned every pending row for each subscriber).
        Index("ix_alert_deliveries_subscriber_status_due", "subscriber_id", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("alert_subscribers.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("alert_items.id", ondelete="CASCADE"), index=True
    )
    topic: Mapped[str] = mapped_column(String(100))  # the subscribed topic that matched
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The outbound message it went out in (one per instant alert, shared by a digest).
    outbound_id: Mapped[str | None] = mapped_column(String(36), index=True)
    channel: Mapped[str | None] = mapped_column(String(16))


class AlertClick(Base):
    """A click on an alert link, kept only while the patron consents."""

    __tablename__ = "alert_clicks"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("alert_subscribers.id", ondelete="CASCADE"), index=True
    )
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_deliveries.id", ondelete="SET NULL"), index=True
    )
    topic: Mapped[str] = mapped_column(String(100))
    local_hour: Mapped[int] = mapped_column(Integer)
    clicked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertOpen(Base):
    """An e-mail alert opened (its tracking image fetched), kept only while the patron
    consents: one row per outbound message, however often the image is fetched. Every
    delivery the message carried counts as opened once."""

    __tablename__ = "alert_opens"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("alert_subscribers.id", ondelete="CASCADE"), index=True
    )
    # The outbound message (``alert_deliveries.outbound_id`` of what it carried).
    outbound_id: Mapped[str] = mapped_column(String(36), unique=True)
    local_hour: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class AlertCursor(Base):
    """How far a source has been turned into items, or items matched (durable)."""

    __tablename__ = "alert_cursors"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AlertLease(Base):
    """Leader election among alert workers: who holds the lease, until when."""

    __tablename__ = "alert_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FeedState(Base):
    """Conditional GET state of a news/events feed."""

    __tablename__ = "alert_feeds"

    url: Mapped[str] = mapped_column(String(500), primary_key=True)
    etag: Mapped[str | None] = mapped_column(String(300))
    modified: Mapped[str | None] = mapped_column(String(100))
    last_checked: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The feed's own title, used as the source label in alerts.
    title: Mapped[str | None] = mapped_column(Text)
    # Who registered it (`refdesk alerts feeds add`); None = only in REFDESK_ALERTS_FEEDS.
    added_by: Mapped[str | None] = mapped_column(String(64))
    added_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
