"""What refdesk may use about a patron for suggestions, and recording their searches.

Nothing is read or written without the patron's personalisation consent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kb.alerts.models import Subscriber
from kb.personalisation import consent
from kb.personalisation.models import PastSearch

KEEP_PER_PATRON = 50  # older searches beyond this are dropped as new ones come
QUERY_CHARS = 200


@dataclass(frozen=True)
class PatronHistory:
    """The patron's alert topics (their own words) and recent distinct searches."""

    topics: list[str] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)


def record_search(session: Session, patron_id: int, query: str) -> bool:
    """Keep one catalog search, only with consent. True when it was kept."""
    query = " ".join(query.split())[:QUERY_CHARS]
    if not query or not consent.has_consent(session, patron_id):
        return False
    session.add(PastSearch(patron_id=patron_id, query=query))
    session.flush()
    keep = select(PastSearch.id).where(PastSearch.patron_id == patron_id)
    stale = keep.order_by(PastSearch.id.desc()).offset(KEEP_PER_PATRON)
    session.execute(delete(PastSearch).where(PastSearch.id.in_(stale.scalar_subquery())))
    return True


def searches(session: Session, patron_id: int) -> list[PastSearch]:
    return list(
        session.scalars(
            select(PastSearch)
            .where(PastSearch.patron_id == patron_id)
            .order_by(PastSearch.searched_at, PastSearch.id)
        )
    )


def count_searches(session: Session, patron_id: int) -> int:
    return (
        session.scalar(select(func.count(PastSearch.id)).where(PastSearch.patron_id == patron_id))
        or 0
    )


def patron_history(session: Session, patron_id: int, *, recent: int = 5) -> PatronHistory | None:
    """None without consent: then nothing about the patron is used."""
    if not consent.has_consent(session, patron_id):
        return None
    sub = session.scalar(select(Subscriber).where(Subscriber.patron_id == patron_id))
    topics = [t.words or t.value for t in sub.topics] if sub is not None and sub.active else []
    seen: list[str] = []
    for past in reversed(searches(session, patron_id)):  # newest first, each query once
        if past.query.casefold() not in {s.casefold() for s in seen}:
            seen.append(past.query)
        if len(seen) >= recent:
            break
    return PatronHistory(topics=list(dict.fromkeys(topics)), searches=seen)


def purge_older_than(session: Session, cutoff: datetime, *, dry_run: bool = False) -> int:
    old = PastSearch.searched_at < cutoff
    if dry_run:
        return session.scalar(select(func.count(PastSearch.id)).where(old)) or 0
    return int(getattr(session.execute(delete(PastSearch).where(old)), "rowcount", 0) or 0)
