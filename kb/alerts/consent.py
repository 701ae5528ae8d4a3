"""Consent to engagement tracking (clicks on alert links, and opens of e-mail alerts):
a separate opt-in, never assumed, revocable. Kept in the one consent history
(kb.privacy.consent); the latest event counts. Withdrawing also deletes the clicks and
opens already kept and the send hour learned from them.

Open tracking came after the first wording, which named only links: a consent given
under that wording (version ``2026-1``) keeps counting clicks but never carries the
tracking image, until the patron agrees to the current wording."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kb.alerts.models import AlertClick, AlertOpen, Subscriber
from kb.privacy import consent
from kb.privacy.models import ConsentEvent

PURPOSE = consent.ENGAGEMENT
VERSION = "2026-2"
# Wordings that named clicks only: no open tracking under them.
CLICKS_ONLY = frozenset({"2026-1"})

WORDING = {
    "zh": "允许图书馆统计您点击了哪些通报链接、打开了哪些通报邮件（邮件里的一个不可见的小图片），"
    "用来挑选发送时间、改进通报。可随时撤回；撤回后已记录的点击和打开会被删除。",
    "en": "Let the library count which alert links you open and which alert e-mails you "
    "open (an invisible image in the e-mail), to pick a better sending time and improve "
    "alerts. You can withdraw at any time; withdrawing deletes the clicks and opens kept.",
}


@dataclass(frozen=True)
class Engagement:
    """What a patron's latest engagement event allows."""

    clicks: bool = False  # tracked links (any granted wording)
    opens: bool = False  # the tracking image in e-mail alerts (a wording that names it)


NONE = Engagement()


def _allows(event: ConsentEvent | None) -> Engagement:
    if event is None or not event.granted:
        return NONE
    return Engagement(clicks=True, opens=event.version not in CLICKS_ONLY)


def has_consent(session: Session, patron_id: int) -> bool:
    return consent.has_consent(session, patron_id, PURPOSE)


def engagement(session: Session, patron_id: int) -> Engagement:
    return _allows(consent.latest(session, patron_id, PURPOSE))


def engagement_of(session: Session, patron_ids: Iterable[int]) -> dict[int, Engagement]:
    """``engagement`` for many patrons in one query (the latest event of each, as
    ``kb.privacy.consent.latest`` orders them); patrons without one are left out."""
    wanted = sorted(set(patron_ids))
    if not wanted:
        return {}
    latest: dict[int, ConsentEvent] = {}
    for event in session.scalars(
        select(ConsentEvent)
        .where(ConsentEvent.purpose == PURPOSE, ConsentEvent.patron_id.in_(wanted))
        .order_by(ConsentEvent.recorded_at, ConsentEvent.id)
    ):
        latest[event.patron_id] = event
    return {patron: _allows(event) for patron, event in latest.items()}


def record(
    session: Session, patron_id: int, granted: bool, *, source: str, language: str = "zh"
) -> ConsentEvent:
    event = consent.record(
        session,
        patron_id,
        PURPOSE,
        granted,
        source=source,
        wording=WORDING.get(language, WORDING["zh"]) if granted else None,
        version=VERSION if granted else None,
    )
    if not granted:
        subscriber = session.scalar(select(Subscriber).where(Subscriber.patron_id == patron_id))
        if subscriber is not None:
            session.execute(delete(AlertClick).where(AlertClick.subscriber_id == subscriber.id))
            session.execute(delete(AlertOpen).where(AlertOpen.subscriber_id == subscriber.id))
            subscriber.best_hour = None
    session.flush()
    return event
