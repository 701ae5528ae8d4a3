"""Consent to engagement tracking (clicks on alert links): a separate opt-in, never
assumed, revocable. Kept in the one consent history (kb.privacy.consent); the latest
event counts. Withdrawing also deletes the clicks already kept and the send hour
learned from them."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kb.alerts.models import AlertClick, Subscriber
from kb.privacy import consent
from kb.privacy.models import ConsentEvent

PURPOSE = consent.ENGAGEMENT
VERSION = "2026-1"

WORDING = {
    "zh": "允许图书馆统计您点击了哪些通报链接，用来挑选发送时间、改进通报。可随时撤回；撤回后已记录的点击会被删除。",
    "en": "Let the library count which alert links you open, to pick a better sending time "
    "and improve alerts. You can withdraw at any time; withdrawing deletes the clicks kept.",
}


def has_consent(session: Session, patron_id: int) -> bool:
    return consent.has_consent(session, patron_id, PURPOSE)


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
            subscriber.best_hour = None
    session.flush()
    return event
