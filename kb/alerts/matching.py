"""Matching items to subscribers through an inverted index (topic → subscribers).

For each item the work is proportional to its own topics and terms and to the
subscribers who actually match, not to the number of subscriptions: a class lookup
per vocabulary code the item carries (its classes and their broader classes) and a
keyword lookup per term. Matching writes one delivery row per (subscriber, item);
the unique constraint and ``INSERT .. ON CONFLICT DO NOTHING`` make a rerun (after a
crash, or by a second process) add nothing twice, and ``AlertItem.matched_at`` is set
in the same transaction, so no item is left out either.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kb.alerts.models import (
    AlertDelivery,
    AlertItem,
    DeliveryStatus,
    Frequency,
    ItemKind,
    Subscriber,
    SubscriptionTopic,
    TopicKind,
)
from kb.alerts.text import keyword_parts
from kb.alerts.timing import due_time
from kb.catalog.imports.collector import fewer_collections
from kb.db import is_sqlite, utcnow
from kb.settings import get_settings

BATCH = 500
# What matching reads of an item (``deliveries_for`` takes an AlertItem or such a row).
_ITEM_FIELDS = (AlertItem.id, AlertItem.kind, AlertItem.audience, AlertItem.topics, AlertItem.terms)


@dataclass(frozen=True)
class Timing:
    frequency: Frequency
    timezone: str | None
    quiet_start: str | None
    quiet_end: str | None
    best_hour: int | None


@dataclass
class TopicIndex:
    """class code → [(subscriber, code)]; first keyword part → [(subscriber, key, parts)]."""

    classes: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    keywords: dict[str, list[tuple[int, str, tuple[str, ...]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    timing: dict[int, Timing] = field(default_factory=dict)

    def add(self, subscriber_id: int, kind: str, value: str) -> None:
        if kind == TopicKind.CLASS:
            self.classes[value].append(subscriber_id)
        else:
            parts = tuple(keyword_parts(value))
            self.keywords[parts[0]].append((subscriber_id, value, parts))

    def match(self, topics: Iterable[str], terms: Iterable[str]) -> dict[int, str]:
        """Subscribers an item with these classes and terms goes to, with the first
        subscribed topic that matched (most specific class first)."""
        hits: dict[int, str] = {}
        for code in sorted(topics, key=len, reverse=True):
            for subscriber in self.classes.get(code, ()):
                hits.setdefault(subscriber, code)
        term_set = terms if isinstance(terms, (set, frozenset)) else set(terms)
        for term in term_set:
            for subscriber, key, parts in self.keywords.get(term, ()):
                if subscriber not in hits and all(p in term_set for p in parts):
                    hits[subscriber] = key
        return hits

    def audience(self, topics: Iterable[str], keywords: Iterable[str]) -> set[int]:
        found: set[int] = set()
        for code in topics:
            found.update(self.classes.get(code, ()))
        wanted = set(keywords)
        for key in wanted:
            parts = tuple(keyword_parts(key))
            for subscriber, value, _ in self.keywords.get(parts[0], ()):
                if value == key:
                    found.add(subscriber)
        return found


def build_index(session: Session) -> TopicIndex:
    index = TopicIndex()
    rows = session.execute(
        select(
            SubscriptionTopic.subscriber_id,
            SubscriptionTopic.kind,
            SubscriptionTopic.value,
            Subscriber.frequency,
            Subscriber.timezone,
            Subscriber.quiet_start,
            Subscriber.quiet_end,
            Subscriber.best_hour,
        )
        .join(Subscriber, Subscriber.id == SubscriptionTopic.subscriber_id)
        .where(Subscriber.active.is_(True))
    )
    for sid, kind, value, freq, tz, qs, qe, best in rows:
        index.add(sid, kind, value)
        if sid not in index.timing:
            index.timing[sid] = Timing(freq, tz, qs, qe, best)
    return index


def item_topics(item: Any) -> tuple[list[str], list[str]]:
    """Announcements go to their audience only; other items by their tags."""
    if item.kind == ItemKind.ANNOUNCEMENT and item.audience:
        return list(item.audience.get("topics") or []), list(item.audience.get("keywords") or [])
    return list(item.topics or []), list(item.terms or [])


def deliveries_for(index: TopicIndex, item: Any, now: datetime) -> list[dict[str, object]]:
    settings = get_settings()
    topics, words = item_topics(item)
    if item.kind == ItemKind.ANNOUNCEMENT and item.audience:
        hits = {s: "announcement" for s in index.audience(topics, words)}
    else:
        hits = index.match(topics, set(words))
    rows = []
    for subscriber, topic in hits.items():
        t = index.timing[subscriber]
        due = due_time(
            now,
            frequency=t.frequency,
            timezone=t.timezone,
            quiet_start=t.quiet_start,
            quiet_end=t.quiet_end,
            best_hour=t.best_hour,
            default_hour=settings.alerts_digest_hour,
            default_zone=settings.alerts_default_timezone,
        )
        rows.append(
            {
                "subscriber_id": subscriber,
                "item_id": item.id,
                "topic": topic[:100],
                "status": DeliveryStatus.PENDING,
                "due_at": due,
                "created_at": now,
            }
        )
    return rows


def insert_deliveries(session: Session, rows: list[dict[str, object]]) -> int:
    if not rows:
        return 0
    dialect = sqlite if is_sqlite(session) else postgresql
    table = AlertDelivery.__table__
    stmt = (
        dialect.insert(table)
        .on_conflict_do_nothing(index_elements=["subscriber_id", "item_id"])
        .returning(table.c.id)
    )
    total = 0
    for start in range(0, len(rows), 5000):
        # RETURNING counts the rows really written (executemany rowcount is not
        # reliable on every driver).
        total += len(session.execute(stmt, rows[start : start + 5000]).all())
    return total


@fewer_collections()
def match_pending(session: Session, *, now: datetime | None = None, batch: int = BATCH) -> int:
    """Match every published item not matched yet; commits per batch of items."""
    index: TopicIndex | None = None
    written = 0
    while True:
        moment = now or utcnow()
        # Plain rows and one UPDATE per batch: an import matches thousands of items.
        items = session.execute(
            select(*_ITEM_FIELDS)
            .where(AlertItem.matched_at.is_(None), AlertItem.publish_at <= moment)
            .order_by(AlertItem.id)
            .limit(batch)
        ).all()
        if not items:
            session.commit()
            return written
        if index is None:
            index = build_index(session)
        rows = [row for item in items for row in deliveries_for(index, item, moment)]
        written += insert_deliveries(session, rows)
        session.execute(
            update(AlertItem)
            .where(AlertItem.id.in_([item.id for item in items]))
            .values(matched_at=moment),
            execution_options={"synchronize_session": False},
        )
        session.commit()
