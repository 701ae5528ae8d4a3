"""A patron's alert subscription: topics, frequency, quiet hours, time zone, channel,
language; adding from the patron's own words, removing one topic or everything."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kb.alerts.models import Frequency, Subscriber, SubscriptionTopic, TopicKind
from kb.alerts.timing import parse_hhmm, valid_zone
from kb.alerts.vocabulary import Understood, Vocabulary, vocabulary
from kb.patrons.models import Patron
from kb.settings import get_settings


class SubscriptionError(ValueError):
    """A setting that cannot be used; the text names it."""


def subscriber_of(session: Session, patron_id: int) -> Subscriber | None:
    return session.scalar(select(Subscriber).where(Subscriber.patron_id == patron_id))


def ensure_subscriber(session: Session, patron_id: int, language: str | None = None) -> Subscriber:
    found = subscriber_of(session, patron_id)
    if found is not None:
        if language in ("zh", "en"):
            found.language = language
        return found
    settings = get_settings()
    subscriber = Subscriber(
        patron_id=patron_id,
        language=language if language in ("zh", "en") else settings.default_language,
        timezone=settings.alerts_default_timezone,
        frequency=Frequency.INSTANT,
        active=True,
    )
    session.add(subscriber)
    session.flush()
    return subscriber


def add_topics(
    session: Session,
    patron_id: int,
    understood: Understood,
    *,
    words: str | None = None,
    language: str | None = None,
) -> tuple[Subscriber, list[SubscriptionTopic]]:
    """Subscribe to what was understood; topics already subscribed are kept once."""
    subscriber = ensure_subscriber(session, patron_id, language)
    subscriber.active = True
    have = {(t.kind, t.value) for t in subscriber.topics}
    added = []
    wanted = [(TopicKind.CLASS, t.code) for t in understood.topics] + [
        (TopicKind.KEYWORD, k) for k in understood.keywords
    ]
    for kind, value in wanted:
        if (kind, value) in have:
            continue
        topic = SubscriptionTopic(kind=kind, value=value[:100], words=(words or "")[:200] or None)
        subscriber.topics.append(topic)
        have.add((kind, value))
        added.append(topic)
    session.flush()
    return subscriber, added


def configure(
    session: Session,
    subscriber: Subscriber,
    *,
    frequency: str | None = None,
    timezone: str | None = None,
    quiet_start: str | None = None,
    quiet_end: str | None = None,
    channel: str | None = None,
    language: str | None = None,
) -> Subscriber:
    if frequency is not None:
        try:
            subscriber.frequency = Frequency(frequency)
        except ValueError as exc:
            raise SubscriptionError("frequency must be instant, daily or weekly") from exc
    if timezone is not None:
        if not valid_zone(timezone):
            raise SubscriptionError(f"timezone: unknown IANA time zone {timezone!r}")
        subscriber.timezone = timezone
    if quiet_start is not None or quiet_end is not None:
        try:
            start, end = parse_hhmm(quiet_start), parse_hhmm(quiet_end)
        except ValueError as exc:
            raise SubscriptionError(f"quiet hours: {exc}") from exc
        if (start is None) != (end is None):
            raise SubscriptionError("quiet hours need both a start and an end (or neither)")
        subscriber.quiet_start = start.strftime("%H:%M") if start else None
        subscriber.quiet_end = end.strftime("%H:%M") if end else None
    if channel is not None:
        subscriber.channel = channel or None
    if language is not None:
        if language not in ("zh", "en"):
            raise SubscriptionError("language must be zh or en")
        subscriber.language = language
    session.flush()
    return subscriber


def remove_topic(
    session: Session, subscriber: Subscriber, topic_id: int
) -> SubscriptionTopic | None:
    topic = session.get(SubscriptionTopic, topic_id)
    if topic is None or topic.subscriber_id != subscriber.id:
        return None
    session.delete(topic)
    session.flush()
    session.refresh(subscriber)
    if not subscriber.topics:
        subscriber.active = False
    return topic


def remove_all(session: Session, subscriber: Subscriber) -> int:
    count = len(subscriber.topics)
    session.execute(
        delete(SubscriptionTopic).where(SubscriptionTopic.subscriber_id == subscriber.id)
    )
    subscriber.active = False
    session.flush()
    session.expire(subscriber, ["topics"])
    return count


def topic_label(
    topic: SubscriptionTopic, language: str | None, vocab: Vocabulary | None = None
) -> str:
    if topic.kind == TopicKind.CLASS:
        found = (vocab or vocabulary()).get(topic.value)
        if found is not None:
            return found.label(language)
    return f"“{topic.value}”" if language == "en" else f"“{topic.value}”（关键词）"


def value_label(
    kind: str, value: str, language: str | None, vocab: Vocabulary | None = None
) -> str:
    if kind == TopicKind.CLASS or kind == "class":
        found = (vocab or vocabulary()).get(value)
        if found is not None:
            return found.label(language)
    return f"“{value}”"


def reachable_channels(patron: Patron) -> list[str]:
    """The channels alerts can go to for this patron: their linked, reachable chat
    identities, and e-mail once an address is on file."""
    found = {i.channel for i in patron.identities if i.reachable and i.channel != "email"}
    if patron.email:
        found.add("email")
    return sorted(found)


def topic_counts(session: Session) -> dict[tuple[str, str], int]:
    """Active subscribers per (kind, value): the vocabulary's classes and keywords."""
    from sqlalchemy import func

    rows = session.execute(
        select(SubscriptionTopic.kind, SubscriptionTopic.value, func.count())
        .join(Subscriber, Subscriber.id == SubscriptionTopic.subscriber_id)
        .where(Subscriber.active.is_(True))
        .group_by(SubscriptionTopic.kind, SubscriptionTopic.value)
    )
    return {(str(kind), value): int(count) for kind, value, count in rows}
