"""Clicks on alert links and opens of e-mail alerts, counted only for patrons who
consented, and the send hour learned from them; delivery and engagement figures per
topic for librarians."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb.alerts import tokens
from kb.alerts.consent import CLICKS_ONLY, PURPOSE, engagement, has_consent
from kb.alerts.links import CLICK, OPEN
from kb.alerts.models import (
    AlertClick,
    AlertDelivery,
    AlertOpen,
    DeliveryStatus,
    Subscriber,
    SubscriptionTopic,
)
from kb.alerts.subscriptions import value_label
from kb.alerts.timing import local_hour
from kb.db import utcnow
from kb.outbound.models import OutboundMessage, OutboundStatus
from kb.privacy.models import ConsentEvent

MIN_EVENTS = 3  # clicks and opens before a send hour is learned
WINDOW_DAYS = 90


def follow(session: Session, token: str, *, now: datetime | None = None) -> str:
    """The target of a tracked link; the click is kept only with consent (and only
    while the link is fresh: an old link still leads to the item, uncounted).
    Raises tokens.TokenInvalid for anything we did not issue."""
    try:
        data = tokens.read(token, CLICK, now=now)
    except tokens.TokenExpired:
        return str(tokens.read(token, CLICK, allow_expired=True)["u"])
    target = str(data["u"])
    subscriber = session.get(Subscriber, int(data["s"]))
    if subscriber is not None and has_consent(session, subscriber.patron_id):
        moment = now or utcnow()
        delivery_id = data.get("d")
        if delivery_id is not None and session.get(AlertDelivery, int(delivery_id)) is None:
            delivery_id = None
        session.add(
            AlertClick(
                subscriber_id=subscriber.id,
                delivery_id=delivery_id,
                topic=str(data.get("t") or "")[:100],
                local_hour=local_hour(moment, subscriber.timezone),
                clicked_at=moment,
            )
        )
        session.flush()
        learn_best_hour(session, subscriber, now=moment)
    return target


def record_open(session: Session, token: str, *, now: datetime | None = None) -> bool:
    """An e-mail alert's tracking image was fetched: the message counts as opened once
    (every delivery it carried), only while the patron consents to open tracking and
    while the link is fresh. True when this fetch recorded the open. Raises
    tokens.TokenInvalid for anything we did not issue."""
    try:
        data = tokens.read(token, OPEN, now=now)
    except tokens.TokenExpired:
        return False
    subscriber = session.get(Subscriber, int(data["s"]))
    message = str(data.get("m") or "")
    if subscriber is None or not message or not engagement(session, subscriber.patron_id).opens:
        return False
    carried = session.scalar(
        select(AlertDelivery.id)
        .where(AlertDelivery.outbound_id == message, AlertDelivery.subscriber_id == subscriber.id)
        .limit(1)
    )
    if carried is None:
        return False
    if session.scalar(select(AlertOpen.id).where(AlertOpen.outbound_id == message)) is not None:
        return False  # opened before: a second fetch counts nothing
    moment = now or utcnow()
    session.add(
        AlertOpen(
            subscriber_id=subscriber.id,
            outbound_id=message,
            local_hour=local_hour(moment, subscriber.timezone),
            opened_at=moment,
        )
    )
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # a concurrent fetch of the same image won
        return False
    learn_best_hour(session, subscriber, now=moment)
    return True


def learn_best_hour(
    session: Session, subscriber: Subscriber, *, now: datetime | None = None
) -> int | None:
    """The local hour the subscriber most often opens alerts at (recent clicks, and
    opens of e-mail alerts); the digest goes out at that hour. Needs MIN_EVENTS of
    them; ties → the earlier hour."""
    since = (now or utcnow()) - timedelta(days=WINDOW_DAYS)
    hours = Counter(
        session.scalars(
            union_all(
                select(AlertClick.local_hour).where(
                    AlertClick.subscriber_id == subscriber.id, AlertClick.clicked_at >= since
                ),
                select(AlertOpen.local_hour).where(
                    AlertOpen.subscriber_id == subscriber.id, AlertOpen.opened_at >= since
                ),
            )
        )
    )
    if sum(hours.values()) < MIN_EVENTS:
        return subscriber.best_hour
    best = min(hours, key=lambda h: (-hours[h], h))
    subscriber.best_hour = best
    return best


def topic_interest(
    session: Session, subscriber_id: int, *, now: datetime | None = None
) -> Counter[str]:
    """Recent clicks per topic: what this (consenting) subscriber opens most. (An opened
    e-mail says nothing about which of its topics drew the patron, so opens do not
    count here.)"""
    return topic_interests(session, [subscriber_id], now=now)[subscriber_id]


def topic_interests(
    session: Session, subscriber_ids: list[int], *, now: datetime | None = None
) -> dict[int, Counter[str]]:
    """``topic_interest`` of many subscribers in one query."""
    since = (now or utcnow()) - timedelta(days=WINDOW_DAYS)
    found: dict[int, Counter[str]] = {s: Counter() for s in subscriber_ids}
    if not subscriber_ids:
        return found
    for subscriber_id, topic, count in session.execute(
        select(AlertClick.subscriber_id, AlertClick.topic, func.count())
        .where(AlertClick.subscriber_id.in_(subscriber_ids), AlertClick.clicked_at >= since)
        .group_by(AlertClick.subscriber_id, AlertClick.topic)
    ):
        found[subscriber_id][topic] = count
    return found


def consenting_patrons(session: Session, *, opens: bool = False) -> set[int]:
    """Patrons whose latest engagement event grants it (``opens``: under a wording that
    names open tracking)."""
    latest = (
        select(ConsentEvent.patron_id, func.max(ConsentEvent.id).label("last"))
        .where(ConsentEvent.purpose == PURPOSE)
        .group_by(ConsentEvent.patron_id)
        .subquery()
    )
    query = (
        select(ConsentEvent.patron_id)
        .join(latest, ConsentEvent.id == latest.c.last)
        .where(ConsentEvent.granted.is_(True))
    )
    if opens:
        query = query.where(
            ConsentEvent.version.is_(None) | ConsentEvent.version.not_in(CLICKS_ONLY)
        )
    return set(session.scalars(query))


def figures(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    language: str = "zh",
) -> dict[str, Any]:
    """Per topic: subscribers, alerts queued, and — from consenting patrons only —
    clicks and opened e-mail alerts. Nothing is reported about individual patrons."""
    start = since or datetime(1970, 1, 1, tzinfo=utcnow().tzinfo)
    end = until or utcnow()
    topics: dict[str, dict[str, Any]] = {}

    def row(value: str, kind: str = "class") -> dict[str, Any]:
        if value not in topics:
            label = (
                "announcement" if value == "announcement" else value_label(kind, value, language)
            )
            topics[value] = {
                "topic": value,
                "label": label,
                "subscribers": 0,
                "queued": 0,
                "pending": 0,
                "clicks": 0,
                "consenting_subscribers": 0,
                "queued_consenting": 0,
                "opens": 0,
                "emailed_consenting": 0,
            }
        return topics[value]

    consenting = consenting_patrons(session)
    for value, kind, patron_id in session.execute(
        select(SubscriptionTopic.value, SubscriptionTopic.kind, Subscriber.patron_id)
        .join(Subscriber, Subscriber.id == SubscriptionTopic.subscriber_id)
        .where(Subscriber.active.is_(True))
    ):
        r = row(value, kind)
        r["subscribers"] += 1
        if patron_id in consenting:
            r["consenting_subscribers"] += 1
    for value, status, count in session.execute(
        select(AlertDelivery.topic, AlertDelivery.status, func.count())
        .where(AlertDelivery.created_at >= start, AlertDelivery.created_at <= end)
        .group_by(AlertDelivery.topic, AlertDelivery.status)
    ):
        r = row(value)
        if status == DeliveryStatus.QUEUED:
            r["queued"] += count
        elif status == DeliveryStatus.PENDING:
            r["pending"] += count
    if consenting:
        for value, count in session.execute(
            select(AlertDelivery.topic, func.count())
            .join(Subscriber, Subscriber.id == AlertDelivery.subscriber_id)
            .where(
                AlertDelivery.status == DeliveryStatus.QUEUED,
                AlertDelivery.created_at >= start,
                AlertDelivery.created_at <= end,
                Subscriber.patron_id.in_(consenting),
            )
            .group_by(AlertDelivery.topic)
        ):
            row(value)["queued_consenting"] += count
    for value, count in session.execute(
        select(AlertClick.topic, func.count())
        .where(AlertClick.clicked_at >= start, AlertClick.clicked_at <= end)
        .group_by(AlertClick.topic)
    ):
        row(value)["clicks"] += count
    # Opens: every delivery an opened e-mail carried, once, however often it was opened.
    for value, count in session.execute(
        select(AlertDelivery.topic, func.count())
        .join(AlertOpen, AlertOpen.outbound_id == AlertDelivery.outbound_id)
        .where(AlertOpen.opened_at >= start, AlertOpen.opened_at <= end)
        .group_by(AlertDelivery.topic)
    ):
        row(value)["opens"] += count
    tracked_opens = consenting_patrons(session, opens=True)
    if tracked_opens:
        for value, count in session.execute(
            select(AlertDelivery.topic, func.count())
            .join(Subscriber, Subscriber.id == AlertDelivery.subscriber_id)
            .join(OutboundMessage, OutboundMessage.id == AlertDelivery.outbound_id)
            .where(
                AlertDelivery.created_at >= start,
                AlertDelivery.created_at <= end,
                Subscriber.patron_id.in_(tracked_opens),
                OutboundMessage.status == OutboundStatus.SENT,
                OutboundMessage.sent_channel == "email",
            )
            .group_by(AlertDelivery.topic)
        ):
            row(value)["emailed_consenting"] += count
    rows = sorted(topics.values(), key=lambda r: (-r["subscribers"], r["topic"]))
    for r in rows:
        # Clicks are only known from consenting patrons, so the rate is over their alerts;
        # opens only from their e-mailed alerts, which carry the image.
        sent = r["queued_consenting"]
        r["click_rate"] = round(r["clicks"] / sent, 3) if sent else None
        mailed = r["emailed_consenting"]
        r["open_rate"] = round(r["opens"] / mailed, 3) if mailed else None
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "note": "clicks and e-mail opens are counted only for patrons who opted in to "
        "engagement tracking",
        "topics": rows,
    }
