"""Clicks on alert links, counted only for patrons who consented, and the send hour
learned from them; delivery and engagement figures per topic for librarians."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.alerts import tokens
from kb.alerts.consent import PURPOSE, has_consent
from kb.alerts.links import CLICK
from kb.alerts.models import (
    AlertClick,
    AlertDelivery,
    DeliveryStatus,
    Subscriber,
    SubscriptionTopic,
)
from kb.alerts.subscriptions import value_label
from kb.alerts.timing import local_hour
from kb.db import utcnow
from kb.privacy.models import ConsentEvent

MIN_CLICKS = 3  # clicks before a send hour is learned
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


def learn_best_hour(
    session: Session, subscriber: Subscriber, *, now: datetime | None = None
) -> int | None:
    """The local hour the subscriber most often opens alerts at (recent clicks); the
    digest goes out at that hour. Needs MIN_CLICKS clicks; ties → the earlier hour."""
    since = (now or utcnow()) - timedelta(days=WINDOW_DAYS)
    hours = Counter(
        session.scalars(
            select(AlertClick.local_hour).where(
                AlertClick.subscriber_id == subscriber.id, AlertClick.clicked_at >= since
            )
        )
    )
    if sum(hours.values()) < MIN_CLICKS:
        return subscriber.best_hour
    best = min(hours, key=lambda h: (-hours[h], h))
    subscriber.best_hour = best
    return best


def topic_interest(
    session: Session, subscriber_id: int, *, now: datetime | None = None
) -> Counter[str]:
    """Recent clicks per topic: what this (consenting) subscriber opens most."""
    since = (now or utcnow()) - timedelta(days=WINDOW_DAYS)
    return Counter(
        session.scalars(
            select(AlertClick.topic).where(
                AlertClick.subscriber_id == subscriber_id, AlertClick.clicked_at >= since
            )
        )
    )


def consenting_patrons(session: Session) -> set[int]:
    latest = (
        select(ConsentEvent.patron_id, func.max(ConsentEvent.id).label("last"))
        .where(ConsentEvent.purpose == PURPOSE)
        .group_by(ConsentEvent.patron_id)
        .subquery()
    )
    return set(
        session.scalars(
            select(ConsentEvent.patron_id)
            .join(latest, ConsentEvent.id == latest.c.last)
            .where(ConsentEvent.granted.is_(True))
        )
    )


def figures(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    language: str = "zh",
) -> dict[str, Any]:
    """Per topic: subscribers, alerts queued, and — from consenting patrons only —
    clicks. Nothing is reported about individual patrons."""
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
    rows = sorted(topics.values(), key=lambda r: (-r["subscribers"], r["topic"]))
    for r in rows:
        # Clicks are only known from consenting patrons, so the rate is over their alerts.
        sent = r["queued_consenting"]
        r["click_rate"] = round(r["clicks"] / sent, 3) if sent else None
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "note": "clicks are counted only for patrons who opted in to engagement tracking",
        "topics": rows,
    }
