"""The one consent history of every purpose (processing notice, engagement tracking...).

Events are appended, never edited: the latest event of a purpose is its state, and the
history shows what was shown or agreed, when, where and in which wording version.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.privacy.models import ConsentEvent

PROCESSING = "processing"  # the privacy notice was shown on first contact
ENGAGEMENT = "engagement"  # counting clicks on alert links and e-mail opens (kb.alerts.consent)
# using alert topics and past catalog searches for suggestions (kb.personalisation.consent)
PERSONALISATION = "personalisation"


def latest(session: Session, patron_id: int, purpose: str) -> ConsentEvent | None:
    return session.scalar(
        select(ConsentEvent)
        .where(ConsentEvent.patron_id == patron_id, ConsentEvent.purpose == purpose)
        .order_by(ConsentEvent.recorded_at.desc(), ConsentEvent.id.desc())
        .limit(1)
    )


def has_consent(session: Session, patron_id: int, purpose: str) -> bool:
    event = latest(session, patron_id, purpose)
    return event is not None and event.granted


def record(
    session: Session,
    patron_id: int,
    purpose: str,
    granted: bool,
    *,
    source: str,
    wording: str | None = None,
    version: str | None = None,
) -> ConsentEvent:
    event = ConsentEvent(
        patron_id=patron_id,
        purpose=purpose,
        granted=granted,
        source=source[:32],
        wording=wording,
        version=version,
    )
    session.add(event)
    session.flush()
    return event


def history(session: Session, patron_id: int) -> list[ConsentEvent]:
    return list(
        session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.patron_id == patron_id)
            .order_by(ConsentEvent.recorded_at, ConsentEvent.id)
        )
    )
