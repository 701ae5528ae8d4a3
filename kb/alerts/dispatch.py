"""Queueing due alerts in the outbound queue: one message per subscriber and run (a
single alert, a short list, or a daily/weekly digest), never an empty one, nothing in
quiet hours (held until they end), each with one-tap unsubscribe links.

Exactly once: the deliveries are moved PENDING → QUEUED by a conditional UPDATE in
the same transaction as the ``enqueue`` (same database), so a run killed anywhere
either queued them or left them pending; a concurrent run that lost the race rolls its
subscriber back. The dedupe key (``alert:<subscriber>:<hash of the items>``) makes a
repeated enqueue of the same set a no-op as well.

Fast on a large backlog: everything a batch of subscribers needs is read in a few
queries (not per subscriber), only the items a message lists are loaded, and the claim
names the subscriber, so the database reads that subscriber's pending deliveries
through ``ix_alert_deliveries_subscriber_status_due`` rather than every pending one.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from kb.alerts.consent import NONE, Engagement, engagement_of
from kb.alerts.engagement import topic_interests
from kb.alerts.links import item_url, open_image_url, unsubscribe_url
from kb.alerts.models import (
    AlertDelivery,
    AlertItem,
    DeliveryStatus,
    Frequency,
    Subscriber,
    TopicKind,
)
from kb.alerts.subscriptions import value_label
from kb.alerts.timing import quiet_until, zone
from kb.db import utcnow
from kb.outbound import enqueue
from kb.settings import get_settings

SHOWN = 10  # items listed in one message; the rest are counted


@dataclass(frozen=True)
class Due:
    """A pending delivery as queueing needs it (no ORM object: a backlog has many)."""

    id: int
    item_id: int
    topic: str


@dataclass
class Line:
    """One delivery of a message: ``delivery`` has ``id``, ``item_id`` and ``topic``;
    ``item`` the text shown (title, summary, url, library), loaded only for the lines
    the message lists."""

    delivery: Any
    item: Any = None


@dataclass
class Claimed:
    """A subscriber's deliveries claimed for one message, in the order it lists them."""

    subscriber: Subscriber
    lines: list[Line]
    message_id: str
    allowed: Engagement


def _title(item: AlertItem, language: str) -> str:
    return (item.title_en if language == "en" and item.title_en else item.title) or ""


def _summary(item: AlertItem, language: str) -> str:
    return (item.summary_en if language == "en" and item.summary_en else item.summary) or ""


def _library(item: AlertItem, language: str) -> str:
    if not item.library_code:
        return ""
    return (
        f"（{item.library_code} 新到馆藏）"
        if language == "zh"
        else f" (new copies at {item.library_code})"
    )


def render(
    subscriber: Subscriber, lines: list[Line], *, tracked: bool, open_image: str | None = None
) -> tuple[str, list[str], dict[str, object]]:
    """(text, links, email extras) of one alert message in the subscriber's language.
    E-mail alerts get an HTML part; ``open_image`` (only for a patron who consented to
    open tracking) is the tracking image it carries."""
    lang = subscriber.language if subscriber.language in ("zh", "en") else "zh"
    digest = subscriber.frequency != Frequency.INSTANT
    n = len(lines)
    if digest:
        kind_zh = "每日" if subscriber.frequency == Frequency.DAILY else "每周"
        kind_en = "daily" if subscriber.frequency == Frequency.DAILY else "weekly"
        head = (
            f"您的{kind_zh}主题通报：{n} 条新内容"
            if lang == "zh"
            else f"Your {kind_en} alert digest: {n} new"
        )
    elif n == 1:
        head = "主题通报：" if lang == "zh" else "New for your alert:"
    else:
        head = f"主题通报：{n} 条新内容" if lang == "zh" else f"New for your alerts: {n} items"
    out = [head]
    links: list[str] = []
    for i, line in enumerate(lines[:SHOWN], start=1):
        item = line.item
        topic = (
            ("馆员通知" if lang == "zh" else "library announcement")
            if line.delivery.topic == "announcement"
            else value_label(_kind_of(line.delivery.topic), line.delivery.topic, lang)
        )
        entry = f"{i}. {_title(item, lang)}{_library(item, lang)}"
        summary = _summary(item, lang)
        if summary:
            entry += f"\n   {summary[:200]}"
        entry += f"\n   {'主题' if lang == 'zh' else 'Topic'}: {topic}"
        url = item_url(
            item.url,
            subscriber_id=subscriber.id,
            delivery_id=line.delivery.id,
            topic=line.delivery.topic,
            tracked=tracked,
        )
        if url:
            entry += f"\n   {url}"
            links.append(url)
        out.append(entry)
    if n > SHOWN:
        more = n - SHOWN
        out.append(f"……另有 {more} 条" if lang == "zh" else f"… and {more} more")
    topics = []
    for line in lines:
        if line.delivery.topic != "announcement" and line.delivery.topic not in topics:
            topics.append(line.delivery.topic)
    out.append("")
    for topic in topics[:3]:
        url = unsubscribe_url(subscriber.id, topic)
        label = value_label(_kind_of(topic), topic, lang)
        out.append(
            f"退订「{label}」：{url}" if lang == "zh" else f"Unsubscribe from {label}: {url}"
        )
        links.append(url)
    all_url = unsubscribe_url(subscriber.id, None)
    out.append(
        f"退订全部通报：{all_url}" if lang == "zh" else f"Unsubscribe from all alerts: {all_url}"
    )
    links.append(all_url)
    subject = head if digest or n > 1 else f"{head} {_title(lines[0].item, lang)}"
    email: dict[str, object] = {
        "subject": subject[:200],
        "headers": {
            "List-Unsubscribe": f"<{all_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        "html": True,
    }
    if open_image:
        email["open_image"] = open_image
    return "\n".join(out), links, email


def _kind_of(value: str) -> str:
    from kb.alerts.vocabulary import vocabulary

    return TopicKind.CLASS if vocabulary().get(value) else TopicKind.KEYWORD


def queue_due(
    session: Session,
    *,
    now: datetime | None = None,
    batch: int | None = None,
    frequency: Frequency | None = None,
) -> int:
    """Queue every due delivery (of subscribers with ``frequency``, or all); returns the
    number of messages queued. Commits per batch of subscribers, taken in id order."""
    moment = now or utcnow()
    limit = batch or get_settings().alerts_batch_size
    queued = 0
    after = 0
    # Walked in id order, each subscriber's due deliveries looked up in its own index
    # entries: the cost of a batch does not grow with the backlog of everyone else.
    has_due = (
        select(AlertDelivery.id)
        .where(
            AlertDelivery.subscriber_id == Subscriber.id,
            AlertDelivery.status == DeliveryStatus.PENDING,
            AlertDelivery.due_at <= moment,
        )
        .exists()
    )
    while True:
        query = select(Subscriber.id).where(Subscriber.id > after, has_due)
        if frequency is not None:
            query = query.where(Subscriber.frequency == frequency)
        subscriber_ids = list(session.scalars(query.order_by(Subscriber.id).limit(limit)))
        if not subscriber_ids:
            session.commit()
            return queued
        queued += _queue_batch(session, subscriber_ids, moment)
        after = subscriber_ids[-1]
        session.commit()


def _queue_batch(session: Session, subscriber_ids: list[int], now: datetime) -> int:
    """One message per subscriber of the batch with deliveries due. What every message
    needs is read once for the whole batch (subscribers with their topics, due
    deliveries, consents, click history, the text of the items listed)."""
    subscribers = {
        s.id: s
        for s in session.scalars(
            select(Subscriber)
            .where(Subscriber.id.in_(subscriber_ids))
            .options(selectinload(Subscriber.topics))
        )
    }
    due: dict[int, list[Due]] = defaultdict(list)
    for delivery_id, subscriber_id, item_id, topic in session.execute(
        select(
            AlertDelivery.id,
            AlertDelivery.subscriber_id,
            AlertDelivery.item_id,
            AlertDelivery.topic,
        )
        .where(
            AlertDelivery.subscriber_id.in_(subscriber_ids),
            AlertDelivery.status == DeliveryStatus.PENDING,
            AlertDelivery.due_at <= now,
        )
        .order_by(AlertDelivery.subscriber_id, AlertDelivery.id)
    ):
        due[subscriber_id].append(Due(delivery_id, item_id, topic))
    allowed = engagement_of(session, [s.patron_id for s in subscribers.values()])
    interests = topic_interests(
        session,
        [s.id for s in subscribers.values() if allowed.get(s.patron_id, NONE).clicks],
        now=now,
    )
    claimed = []
    for subscriber_id in subscriber_ids:
        subscriber = subscribers.get(subscriber_id)
        if subscriber is None or not due[subscriber_id]:
            continue
        found = _claim(
            session,
            subscriber,
            due[subscriber_id],
            now,
            allowed.get(subscriber.patron_id, NONE),
            interests.get(subscriber_id),
        )
        if found is not None:
            claimed.append(found)
    listed = {line.delivery.item_id for c in claimed for line in c.lines[:SHOWN]}
    texts = {
        row.id: row
        for row in session.execute(
            select(
                AlertItem.id,
                AlertItem.title,
                AlertItem.title_en,
                AlertItem.summary,
                AlertItem.summary_en,
                AlertItem.url,
                AlertItem.library_code,
            ).where(AlertItem.id.in_(listed))
        )
    }
    for c in claimed:
        for line in c.lines[:SHOWN]:
            line.item = texts[line.delivery.item_id]
        _enqueue(session, c)
    return len(claimed)


def _claim(
    session: Session,
    subscriber: Subscriber,
    rows: list[Due],
    now: datetime,
    allowed: Engagement,
    interest: Counter[str] | None,
) -> Claimed | None:
    """Drop what is no longer wanted, hold what quiet hours hold, and claim the rest
    (PENDING → QUEUED, with the id of the message about to be queued)."""
    subscribed = {t.value for t in subscriber.topics} if subscriber.active else set()

    def wanted(topic: str) -> bool:
        return topic in subscribed or (topic == "announcement" and subscriber.active)

    keep = [Line(d) for d in rows if wanted(d.topic)]
    dropped = [d.id for d in rows if not wanted(d.topic)]
    if dropped:
        session.execute(
            update(AlertDelivery)
            .where(
                AlertDelivery.subscriber_id == subscriber.id,
                AlertDelivery.status == DeliveryStatus.PENDING,
                AlertDelivery.id.in_(dropped),
            )
            .values(status=DeliveryStatus.DROPPED)
        )
    if not keep:
        return None  # never an empty digest
    held = quiet_until(now, zone(subscriber.timezone), subscriber.quiet_start, subscriber.quiet_end)
    if held is not None:
        session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.id.in_([line.delivery.id for line in keep]))
            .values(due_at=held)
        )
        return None
    ids = [line.delivery.id for line in keep]
    message_id = str(uuid.uuid4())
    # The claim, the message and its id are one transaction. No SAVEPOINT here: with
    # pysqlite a SAVEPOINT opened before any write starts a transaction of its own and
    # commits the claim on RELEASE, so a worker killed before the commit below left
    # deliveries "queued" with no message. (The subscriber condition lets the database
    # use the subscriber's index instead of scanning every pending delivery.)
    claim = session.execute(
        update(AlertDelivery)
        .where(
            AlertDelivery.subscriber_id == subscriber.id,
            AlertDelivery.status == DeliveryStatus.PENDING,
            AlertDelivery.id.in_(ids),
        )
        .values(
            status=DeliveryStatus.QUEUED,
            queued_at=now,
            channel=subscriber.channel,
            outbound_id=message_id,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(claim, "rowcount", -1) != len(ids):
        # Another worker took some of them: give back the ones this run just claimed.
        session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.outbound_id == message_id, AlertDelivery.id.in_(ids))
            .values(status=DeliveryStatus.PENDING, queued_at=None, outbound_id=None)
            .execution_options(synchronize_session=False)
        )
        return None
    if allowed.clicks:
        interest = interest or Counter()
        # With consent, the topics this subscriber opens most come first (announcements
        # stay on top); ties keep the order the items arrived in.
        keep.sort(
            key=lambda line: (line.delivery.topic != "announcement", -interest[line.delivery.topic])
        )
    return Claimed(subscriber, keep, message_id, allowed)


def _enqueue(session: Session, claimed: Claimed) -> None:
    subscriber = claimed.subscriber
    image = open_image_url(subscriber.id, claimed.message_id) if claimed.allowed.opens else None
    text, links, email = render(
        subscriber, claimed.lines, tracked=claimed.allowed.clicks, open_image=image
    )
    buttons = chat_buttons(subscriber, claimed.lines)
    # The same set, however it is ranked.
    items = sorted(line.delivery.item_id for line in claimed.lines)
    digest = hashlib.sha256(",".join(map(str, items)).encode()).hexdigest()[:20]
    message = enqueue(
        session,
        subscriber.patron_id,
        text,
        kind="alert" if subscriber.frequency == Frequency.INSTANT else "digest",
        dedupe_key=f"alert:{subscriber.id}:{digest}",
        channel=subscriber.channel,
        buttons=buttons,
        extra={"links": links, "email": email, "language": subscriber.language},
        message_id=claimed.message_id,
    )
    if message.id != claimed.message_id:
        # The same set was queued before (its dedupe key): the deliveries are that one's.
        session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.outbound_id == claimed.message_id)
            .values(outbound_id=message.id)
            .execution_options(synchronize_session=False)
        )


def chat_buttons(subscriber: Subscriber, lines: list[Line]) -> list[dict[str, str]]:
    """One-tap unsubscribe in chat channels: a button per topic of this alert (at most
    three) and one for everything; the same intent the chat's own buttons send."""
    lang = subscriber.language
    ids = {t.value: t.id for t in subscriber.topics}
    buttons: list[dict[str, str]] = []
    for topic in dict.fromkeys(line.delivery.topic for line in lines):
        if topic in ids and len(buttons) < 3:
            label = value_label(_kind_of(topic), topic, lang)
            buttons.append(
                {
                    "title": f"退订 {label}" if lang == "zh" else f"Stop {label}",
                    "payload": f'/unsubscribe_alerts{{"alert_topic_id": "{ids[topic]}"}}',
                }
            )
    buttons.append(
        {
            "title": "全部退订" if lang == "zh" else "Stop all alerts",
            "payload": '/unsubscribe_alerts{"alert_topic_id": "all"}',
        }
    )
    return buttons
