"""Library news and events from RSS/Atom feeds: which feeds are read (those in
REFDESK_ALERTS_FEEDS and those staff registered), fetching one with a conditional GET
and a timeout, and storing its new entries as alert items (unique per feed entry, so a
feed served again in full announces nothing twice).

The HTTP exchange is httpx's (a timeout, and the status code seen as it is); feedparser
only parses the body it is given.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.alerts.items import feed_rows, insert_items
from kb.alerts.models import FeedState
from kb.alerts.vocabulary import vocabulary
from kb.db import session_scope, utcnow
from kb.settings import Settings, get_settings

log = logging.getLogger("refdesk.alerts.feeds")
AGENT = "refdesk-alerts (+https://github.com/refdesk)"


class FeedError(ValueError):
    """A feed URL that cannot be registered or removed; the text says why."""


@dataclass(frozen=True)
class FeedRead:
    url: str
    new_items: int = 0
    not_modified: bool = False
    error: str | None = None
    seconds: float = 0.0  # how long reading it took


def check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FeedError(f"url: not an http(s) address: {url!r}")
    return url.strip()


def feed_urls(session: Session, settings: Settings | None = None) -> list[str]:
    """Every feed to read: the configured ones, then those staff added."""
    configured = list((settings or get_settings()).alerts_feeds)
    added = session.scalars(
        select(FeedState.url).where(FeedState.added_by.is_not(None)).order_by(FeedState.added_at)
    ).all()
    return list(dict.fromkeys([*configured, *added]))


def add_feed(session: Session, url: str, by: str) -> bool:
    """Register a feed; False when it was already registered."""
    url = check_url(url)
    state = session.get(FeedState, url)
    if state is not None and state.added_by:
        return False
    if state is None:
        state = FeedState(url=url)
        session.add(state)
    state.added_by, state.added_at = by[:64], utcnow()
    session.flush()
    return True


def remove_feed(session: Session, url: str, settings: Settings | None = None) -> None:
    """Stop reading a registered feed. Items it already produced stay (they may have
    been sent); a feed from the settings can only be removed there."""
    if url in (settings or get_settings()).alerts_feeds:
        raise FeedError(f"{url} comes from REFDESK_ALERTS_FEEDS; remove it there")
    state = session.get(FeedState, url)
    if state is None or not state.added_by:
        raise FeedError(f"no registered feed {url}")
    state.added_by = None
    session.flush()


def feed_states(session: Session, settings: Settings | None = None) -> list[FeedState]:
    """The feeds with what is known of them (a configured feed never read has no row
    yet: it is shown as a fresh state)."""
    urls = feed_urls(session, settings)
    return [session.get(FeedState, url) or FeedState(url=url) for url in urls]


def read_feed(
    session: Session, url: str, *, content: bytes | None = None, timeout: float | None = None
) -> FeedRead:
    """Fetch one feed (conditional GET unless ``content`` is given) and store its new
    entries as items. Problems are recorded on the feed and returned, not raised."""
    import feedparser

    state = session.get(FeedState, url) or FeedState(url=url)
    session.add(state)
    state.last_checked = utcnow()
    headers = {}
    if content is None:
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.modified:
            headers["If-Modified-Since"] = state.modified
        try:
            response = httpx.get(
                url,
                headers={"User-Agent": AGENT, **headers},
                timeout=timeout
                if timeout is not None
                else get_settings().alerts_feed_timeout_seconds,
                follow_redirects=True,
            )
        except httpx.TimeoutException:
            return _failed(session, state, "timed out")
        except httpx.HTTPError as exc:
            return _failed(session, state, f"could not fetch: {exc}")
        if response.status_code == 304:
            state.last_error = None
            session.commit()
            return FeedRead(url, not_modified=True)
        if response.status_code != 200:
            return _failed(session, state, f"HTTP {response.status_code}")
        content = response.content
        etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
    else:
        etag = modified = None
    parsed = feedparser.parse(content)
    if parsed.bozo and not parsed.entries:
        reason = parsed.get("bozo_exception") or "unreadable feed"
        return _failed(session, state, f"not a readable RSS/Atom feed: {reason}")
    state.etag, state.modified = etag, modified
    state.title = (parsed.feed.get("title") or "")[:300] or None
    state.last_error = None
    made = insert_items(session, feed_rows(vocabulary(), url, parsed))
    session.commit()
    return FeedRead(url, new_items=made)


def _failed(session: Session, state: FeedState, error: str) -> FeedRead:
    state.last_error = error[:500]
    session.commit()
    log.error("alerts: feed %s: %s", state.url, error)
    return FeedRead(state.url, error=error)


def read_all(settings: Settings | None = None) -> list[FeedRead]:
    """Read every feed, each in its own transaction: one broken or slow feed never
    stops the others."""
    settings = settings or get_settings()
    with session_scope(settings.database_url) as session:
        urls = feed_urls(session, settings)
    results = []
    for url in urls:
        started = time.monotonic()
        try:
            with session_scope(settings.database_url) as session:
                result = read_feed(session, url, timeout=settings.alerts_feed_timeout_seconds)
        except Exception as exc:  # a bug or the database, not the feed: log, go on
            log.exception("alerts: reading feed %s failed", url)
            result = FeedRead(url, error=str(exc))
        results.append(replace(result, seconds=time.monotonic() - started))
    return results
