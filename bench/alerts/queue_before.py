"""The alert queueing as it was before it was made fast (commit 980c757,
``kb/alerts/dispatch.py``), kept only so bench/alerts can time it against the current
``queue_due`` in the same run, on copies of the same database. The same rules (one
message per subscriber, drop unwanted, hold quiet hours, conditional claim), but
everything is read per subscriber, whole ORM rows (each item with its JSON terms), and
the claim does not name the subscriber: on SQLite both the per-subscriber read and the
claim went through the ``(status, due_at)`` index, i.e. every pending delivery, so the
cost of one message grew with the whole backlog. Not used by refdesk itself.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kb.alerts.consent import has_consent
from kb.alerts.dispatch import Line, chat_buttons, render
from kb.alerts.engagement import topic_interest
from kb.alerts.models import AlertDelivery, AlertItem, DeliveryStatus, Frequency, Subscriber
from kb.alerts.timing import quiet_until, zone
from kb.db import utcnow
from kb.outbound import enqueue
from kb.settings import get_settings


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
