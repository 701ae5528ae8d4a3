"""Consent to personalised suggestions (alert topics and past catalog searches): a
separate opt-in, never assumed, revocable. Kept in the one consent history
(kb.privacy.consent); the latest event counts. Withdrawing deletes the searches kept.
Declining the offer is a refusal event of its own: the offer then pauses for the patron
(all their linked channels) instead of coming back in every new conversation."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from kb.db import utcnow
from kb.personalisation.models import PastSearch
from kb.privacy import consent
from kb.privacy.models import ConsentEvent

PURPOSE = consent.PERSONALISATION
VERSION = "2026-1"

WORDING = {
    "zh": "想要更合您口味的推荐吗？允许参考台使用您订阅的通报主题和您在这里做过的馆藏检索来挑书。"
    "检索记录加密保存，可随时说“别用我的记录推荐”撤回；撤回后已记录的检索会被删除。",
    "en": "Want suggestions that fit you better? Let refdesk use your alert topics and the "
    "catalog searches you make here to pick books. Searches are kept encrypted; say "
    "“stop using my history” at any time to withdraw, which deletes the searches kept.",
}


def has_consent(session: Session, patron_id: int) -> bool:
    return consent.has_consent(session, patron_id, PURPOSE)


def offer_due(
    session: Session, patron_id: int, *, pause_days: int, now: datetime | None = None
) -> bool:
    """Whether to offer personalisation to this patron (on any of their linked channels).

    Never while they consent, never after they withdrew; after they declined the offer,
    only once ``pause_days`` have passed since."""
    event = consent.latest(session, patron_id, PURPOSE)
    if event is None:
        return True
    if event.granted or not is_refusal(event):
        return False
    return event.recorded_at <= (now or utcnow()) - timedelta(days=pause_days)


def is_refusal(event: ConsentEvent) -> bool:
    """A "no" to the offer keeps the wording declined; a withdrawal keeps none."""
    return not event.granted and event.wording is not None


def refuse(session: Session, patron_id: int, *, source: str, language: str = "zh") -> ConsentEvent:
    """The patron said no to the offer (or before ever saying yes): recorded with the
    wording they declined and the time, so the offer pauses per patron, not per chat."""
    return consent.record(
        session,
        patron_id,
        PURPOSE,
        False,
        source=source,
        wording=WORDING.get(language, WORDING["zh"]),
        version=VERSION,
    )


def record(
    session: Session, patron_id: int, granted: bool, *, source: str, language: str = "zh"
) -> tuple[ConsentEvent, int]:
    """Record the decision; on withdrawal also delete the searches kept (their count)."""
    event = consent.record(
        session,
        patron_id,
        PURPOSE,
        granted,
        source=source,
        wording=WORDING.get(language, WORDING["zh"]) if granted else None,
        version=VERSION if granted else None,
    )
    deleted = 0
    if not granted:
        result = session.execute(delete(PastSearch).where(PastSearch.patron_id == patron_id))
        deleted = int(getattr(result, "rowcount", 0) or 0)
    session.flush()
    return event, deleted
