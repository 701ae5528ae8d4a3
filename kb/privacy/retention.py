"""The retention job: personal data is kept only as long as the library set.

Each run deletes transcript lines older than ``privacy_transcript_days`` (in the app
database and in the engine's tracker store), anonymises delivery tickets closed more
than ``privacy_closed_ticket_days`` ago (patron link, contact fields, notes), deletes
past catalog searches kept for suggestions older than ``privacy_search_history_days``
and drops expired export links and spent privacy-page links (used or expired). It only ever touches what is past its limit and not yet done,
so running it twice changes nothing the second time. Every run, dry or not, is a
:class:`RetentionRun` row and a log line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from kb import engine_tracker
from kb.conversations.models import Message
from kb.db import utcnow
from kb.delivery.models import DeliveryRequest
from kb.delivery.states import TERMINAL
from kb.personalisation import history
from kb.privacy.forget import anonymise_ticket
from kb.privacy.models import DataExport, PageLink, RetentionRun
from kb.settings import Settings

log = logging.getLogger("refdesk.privacy")


@dataclass(frozen=True)
class Limits:
    transcript_days: int
    closed_ticket_days: int
    search_history_days: int = 90

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            settings.privacy_transcript_days,
            settings.privacy_closed_ticket_days,
            settings.privacy_search_history_days,
        )


def run(
    session: Session,
    limits: Limits,
    *,
    tracker_store_url: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> RetentionRun:
    now = now or utcnow()
    record = RetentionRun(
        started_at=now,
        dry_run=dry_run,
        limits={
            "transcript_days": limits.transcript_days,
            "closed_ticket_days": limits.closed_ticket_days,
            "search_history_days": limits.search_history_days,
        },
    )
    transcript_cutoff = now - timedelta(days=limits.transcript_days)
    ticket_cutoff = now - timedelta(days=limits.closed_ticket_days)
    counts: dict[str, Any] = {
        "transcript_lines": _transcripts(session, transcript_cutoff, dry_run),
        "tickets_anonymised": _tickets(session, ticket_cutoff, dry_run),
        "expired_exports": _exports(session, now, dry_run),
        "spent_page_links": _page_links(session, now, dry_run),
        "past_searches": history.purge_older_than(
            session, now - timedelta(days=limits.search_history_days), dry_run=dry_run
        ),
    }
    if tracker_store_url:
        counts["engine_events"] = engine_tracker.delete_older_than(
            tracker_store_url, transcript_cutoff, dry_run=dry_run
        )
    record.counts = counts
    record.finished_at = utcnow()
    session.add(record)
    session.flush()
    log.info(
        "privacy retention%s: %s (limits %s)",
        " (dry run)" if dry_run else "",
        counts,
        record.limits,
    )
    return record


def _transcripts(session: Session, cutoff: datetime, dry_run: bool) -> int:
    old = Message.created_at < cutoff
    if dry_run:
        return session.scalar(select(func.count(Message.id)).where(old)) or 0
    return int(getattr(session.execute(delete(Message).where(old)), "rowcount", 0) or 0)


def _tickets(session: Session, cutoff: datetime, dry_run: bool) -> int:
    due = list(
        session.scalars(
            select(DeliveryRequest).where(
                DeliveryRequest.status.in_(TERMINAL),
                DeliveryRequest.closed_at < cutoff,
                or_(
                    DeliveryRequest.patron_id.is_not(None),
                    DeliveryRequest.contact_name.is_not(None),
                    DeliveryRequest.contact_email.is_not(None),
                    DeliveryRequest.contact_phone.is_not(None),
                    DeliveryRequest.notes.is_not(None),
                ),
            )
        )
    )
    if not dry_run:
        for ticket in due:
            anonymise_ticket(session, ticket)
    return len(due)


def _exports(session: Session, now: datetime, dry_run: bool) -> int:
    expired = DataExport.expires_at < now
    if dry_run:
        return session.scalar(select(func.count(DataExport.id)).where(expired)) or 0
    return int(getattr(session.execute(delete(DataExport).where(expired)), "rowcount", 0) or 0)


def _page_links(session: Session, now: datetime, dry_run: bool) -> int:
    # A used or expired link opens nothing; its row only says when the patron asked.
    spent = or_(PageLink.used_at.is_not(None), PageLink.expires_at < now)
    if dry_run:
        return session.scalar(select(func.count(PageLink.id)).where(spent)) or 0
    return int(getattr(session.execute(delete(PageLink).where(spent)), "rowcount", 0) or 0)
