"""Queueing due alerts in the outbound queue: one message per subscriber and run (a
single alert, a short list, or a daily/weekly digest), never an empty one, nothing in
quiet hours (held until they end), each with one-tap unsubscribe links.

Exactly once: the deliveries are moved PENDING → QUEUED by a conditional UPDATE in
the same transaction as the ``enqueue`` (same database), so a run killed anywhere
either queued them or left them pending; a concurrent run that lost the race rolls its
subscriber back. The dedupe key (``alert:<subscriber>:<hash of the items>``) makes a
repeated enqueue of the same set a no-op as well.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kb.alerts.consent import has_consent
from kb.alerts.engagement import topic_interest
from kb.alerts.links import item_url, unsubscribe_url
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


@dataclass
class Line:
    delivery: AlertDelivery
    item: AlertItem


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
    subscriber: Subscriber, lines: list[Line], *, tracked: bool
) -> tuple[str, list[str], dict[str, object]]:
    """(text, links, email extras) of one alert message in the subscriber's language."""
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
    }
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
    number of messages queued. Commits per batch of subscribers."""
    moment = now or utcnow()
    limit = batch or get_settings().alerts_batch_size
    queued = 0
    while True:
        query = select(AlertDelivery.subscriber_id).where(
            AlertDelivery.status == DeliveryStatus.PENDING, AlertDelivery.due_at <= moment
        )
        if frequency is not None:
            query = query.join(Subscriber, Subscriber.id == AlertDelivery.subscriber_id).where(
                Subscriber.frequency == frequency
            )
        subscriber_ids = session.scalars(
            query.group_by(AlertDelivery.subscriber_id)
            .order_by(AlertDelivery.subscriber_id)
            .limit(limit)
        ).all()
        if not subscriber_ids:
            session.commit()
            return queued
        for subscriber_id in subscriber_ids:
            queued += _queue_subscriber(session, subscriber_id, moment)
        session.commit()


def _queue_subscriber(session: Session, subscriber_id: int, now: datetime) -> int:
    subscriber = session.get(Subscriber, subscriber_id)
    rows = session.execute(
        select(AlertDelivery, AlertItem)
        .join(AlertItem, AlertItem.id == AlertDelivery.item_id)
        .where(
            AlertDelivery.subscriber_id == subscriber_id,
            AlertDelivery.status == DeliveryStatus.PENDING,
            AlertDelivery.due_at <= now,
        )
        .order_by(AlertDelivery.id)
    ).all()
    if subscriber is None or not rows:
        return 0
    subscribed = {t.value for t in subscriber.topics} if subscriber.active else set()
    keep = [
        Line(d, i)
        for d, i in rows
        if d.topic in subscribed or (d.topic == "announcement" and subscriber.active)
    ]
    dropped = [
        d.id
        for d, _ in rows
        if d.topic not in subscribed and not (d.topic == "announcement" and subscriber.active)
    ]
    if dropped:
        session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.id.in_(dropped), AlertDelivery.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.DROPPED)
        )
    if not keep:
        return 0  # never an empty digest
    held = quiet_until(now, zone(subscriber.timezone), subscriber.quiet_start, subscriber.quiet_end)
    if held is not None:
        session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.id.in_([line.delivery.id for line in keep]))
            .values(due_at=held)
        )
        return 0
    ids = [line.delivery.id for line in keep]
    # The claim, the message and its id are one transaction. No SAVEPOINT here: with
    # pysqlite a SAVEPOINT opened before any write starts a transaction of its own and
    # commits the claim on RELEASE, so a worker killed before the commit below left
    # deliveries "queued" with no message.
    claimed = session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id.in_(ids), AlertDelivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.QUEUED, queued_at=now, channel=subscriber.channel)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", -1) != len(ids):
        # Another worker took some of them: give back the ones this run just claimed.
        session.execute(
            update(AlertDelivery)
            .where(
                AlertDelivery.id.in_(ids),
                AlertDelivery.status == DeliveryStatus.QUEUED,
                AlertDelivery.outbound_id.is_(None),
                AlertDelivery.queued_at == now,
            )
            .values(status=DeliveryStatus.PENDING, queued_at=None)
            .execution_options(synchronize_session=False)
        )
        return 0
    tracked = has_consent(session, subscriber.patron_id)
    if tracked:
        # With consent, the topics this subscriber opens most come first (announcements
        # stay on top); ties keep the order the items arrived in.
        interest = topic_interest(session, subscriber.id, now=now)
        keep.sort(
            key=lambda line: (line.delivery.topic != "announcement", -interest[line.delivery.topic])
        )
    text, links, email = render(subscriber, keep, tracked=tracked)
    buttons = chat_buttons(subscriber, keep)
    items = sorted(line.item.id for line in keep)  # the same set, however it is ranked
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
    )
    session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id.in_(ids))
        .values(outbound_id=message.id)
        .execution_options(synchronize_session=False)
    )
    return 1


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
