"""What an unsubscribe link names, and doing it (idempotent: a second tap is harmless)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from kb.alerts import tokens
from kb.alerts.links import UNSUBSCRIBE
from kb.alerts.models import Subscriber
from kb.alerts.subscriptions import remove_all, topic_label, value_label


@dataclass
class Target:
    subscriber_id: int
    topic: str | None  # None = every topic
    labels: dict[str, str]  # {"zh": ..., "en": ...} of what the link stops
    still_subscribed: bool


def describe(session: Session, token: str) -> Target:
    """Raises tokens.TokenInvalid / TokenExpired."""
    data = tokens.read(token, UNSUBSCRIBE)
    subscriber = session.get(Subscriber, int(data["s"]))
    if subscriber is None:
        raise tokens.TokenInvalid("the subscription no longer exists")
    topic = data.get("t")
    if topic is None:
        labels = {"zh": "全部主题通报", "en": "all alerts"}
        still = subscriber.active and bool(subscriber.topics)
    else:
        kind = next((t.kind for t in subscriber.topics if t.value == topic), "class")
        labels = {lang: value_label(kind, str(topic), lang) for lang in ("zh", "en")}
        still = any(t.value == topic for t in subscriber.topics)
    return Target(subscriber.id, topic, labels, still)


def perform(session: Session, token: str) -> Target:
    target = describe(session, token)
    subscriber = session.get(Subscriber, target.subscriber_id)
    assert subscriber is not None
    if target.topic is None:
        remove_all(session, subscriber)
    else:
        for t in list(subscriber.topics):
            if t.value == target.topic:
                session.delete(t)
        session.flush()
        session.refresh(subscriber)
        if not subscriber.topics:
            subscriber.active = False
    return target


__all__ = ["Target", "describe", "perform", "topic_label"]
