"""The alerts worker's jobs. APScheduler keeps them in its SQLAlchemy job store by
reference ("kb.alerts.jobs:cycle"), so they are plain module functions that read the
settings themselves. Each one first checks that this process still holds the leader
lease (a fence: a paused ex-leader does nothing)."""

from __future__ import annotations

import logging

from kb.alerts import lease
from kb.alerts.dispatch import queue_due
from kb.alerts.feeds import read_all
from kb.alerts.items import collect_and_match
from kb.alerts.models import Frequency
from kb.db import session_scope
from kb.settings import get_settings

log = logging.getLogger("refdesk.alerts")
HOLDER: str | None = None  # set by the worker process


def _leader() -> bool:
    if HOLDER is None:
        return False
    with session_scope(get_settings().database_url) as session:
        return lease.holds(session, HOLDER)


def match() -> None:
    """Items from the ingestions since the last run, then matching of every item not
    matched yet."""
    if not _leader():
        return
    with session_scope(get_settings().database_url) as session:
        items, written = collect_and_match(session)
    if items or written:
        log.info("alerts: %d new items, %d deliveries", items, written)


def _queue(frequency: Frequency) -> None:
    if not _leader():
        return
    with session_scope(get_settings().database_url) as session:
        queued = queue_due(session, frequency=frequency)
    if queued:
        log.info("alerts: %d %s messages queued", queued, frequency.value)


def instant() -> None:
    _queue(Frequency.INSTANT)


def daily_digests() -> None:
    _queue(Frequency.DAILY)


def weekly_digests() -> None:
    _queue(Frequency.WEEKLY)


def feeds() -> None:
    if not _leader():
        return
    for result in read_all(get_settings()):
        if result.new_items:
            log.info("alerts: %d new entries from %s", result.new_items, result.url)


def privacy_retention() -> None:
    """The daily retention run (kb.privacy.retention), on the leader only."""
    from kb.privacy import retention

    if not _leader():
        return
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        retention.run(
            session,
            retention.Limits.of(settings),
            tracker_store_url=settings.tracker_store_url,
        )
