"""Feeds read over real HTTP from a local server: RSS 2.0 and Atom (zh and en),
conditional GET (ETag and Last-Modified: a 304 announces nothing again), a broken feed
(a clear logged error, the others still read), a slow feed (timeout), and new entries
tagged with topics and matched to subscribers."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.alerts.feeds import FeedError, add_feed, feed_states, read_all, remove_feed
from kb.alerts.matching import match_pending
from kb.alerts.models import AlertDelivery, AlertItem, FeedState, ItemKind
from kb.settings import get_settings
from tests.kb.alerts.conftest import subscribe

SAMPLES = Path(__file__).parent / "feeds"
NEWS = (SAMPLES / "library_news_zh.rss").read_bytes()
EVENTS = (SAMPLES / "library_events_en.atom").read_bytes()


@dataclass
class Route:
    body: bytes
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    modified: str | None = None
    delay: float = 0.0


@dataclass
class FeedServer:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def status_of(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers in self.requests if p == path]


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    state = FeedServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            state.requests.append((self.path, dict(self.headers)))
            route = state.routes.get(self.path)
            if route is None:
                self.send_error(404)
                return
            if route.delay:
                time.sleep(route.delay)
            fresh = (route.etag and self.headers.get("If-None-Match") == route.etag) or (
                route.modified and self.headers.get("If-Modified-Since") == route.modified
            )
            if fresh:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(route.body)))
            if route.etag:
                self.send_header("ETag", route.etag)
            if route.modified:
                self.send_header("Last-Modified", route.modified)
            self.end_headers()
            # The slow feed's reader may have given up.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(route.body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def feed_settings(db_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REFDESK_DATABASE_URL", db_url)
    monkeypatch.setenv("REFDESK_ALERTS_FEED_TIMEOUT_SECONDS", "1")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def news_titles(session: Session) -> set[str]:
    session.expire_all()
    return set(session.scalars(select(AlertItem.title).where(AlertItem.kind == ItemKind.NEWS)))


def test_feeds_over_http(
    session: Session, feed_server: FeedServer, feed_settings, caplog: pytest.LogCaptureFixture
) -> None:
    feed_server.routes = {
        "/news.rss": Route(NEWS, etag='"news-v1"'),
        "/events.atom": Route(
            EVENTS,
            content_type="application/atom+xml",
            modified="Mon, 23 Nov 2026 01:00:00 GMT",
        ),
        "/broken.xml": Route(b"<?xml version='1.0'?><rss><channel><title>Half a feed"),
        "/slow.rss": Route(NEWS, delay=3.0),
    }
    ai = subscribe(session, "人工智能")
    digs = subscribe(session, "archaeology", language="en")
    for path in ("/broken.xml", "/slow.rss", "/news.rss", "/events.atom"):
        assert add_feed(session, feed_server.url(path), by="test")
    assert not add_feed(session, feed_server.url("/news.rss"), by="test")
    session.commit()

    with caplog.at_level(logging.ERROR, logger="refdesk.alerts.feeds"):
        results = {r.url.rsplit("/", 1)[1]: r for r in read_all(feed_settings)}

    # The broken and the slow feed come first and do not stop the others.
    assert results["news.rss"].new_items == 3
    assert results["events.atom"].new_items == 2
    assert "not a readable RSS/Atom feed" in (results["broken.xml"].error or "")
    assert results["slow.rss"].error == "timed out"
    assert results["slow.rss"].seconds < 2.5, "the slow feed was waited for beyond its timeout"
    logged = caplog.text
    assert feed_server.url("/broken.xml") in logged and feed_server.url("/slow.rss") in logged

    titles = news_titles(session)
    assert "讲座预告：人工智能时代的学术写作与文献检索" in titles
    assert "Workshop: Machine learning for humanities data" in titles
    states = {s.url.rsplit("/", 1)[1]: s for s in feed_states(session)}
    assert states["news.rss"].title == "北京大学图书馆 · 新闻公告"
    assert states["news.rss"].etag == '"news-v1"'
    assert states["broken.xml"].last_error and states["slow.rss"].last_error == "timed out"

    # Tagged with topics and matched to the subscribers.
    items = {i.title: i for i in session.scalars(select(AlertItem))}
    assert "TP18" in items["讲座预告：人工智能时代的学术写作与文献检索"].topics
    assert "TP18" in items["Workshop: Machine learning for humanities data"].topics
    match_pending(session)
    session.commit()

    def matched(subscriber_id: int) -> set[str]:
        rows = session.execute(
            select(AlertItem.title)
            .join(AlertDelivery, AlertDelivery.item_id == AlertItem.id)
            .where(AlertDelivery.subscriber_id == subscriber_id)
        )
        return set(rows.scalars())

    assert matched(ai.id) == {
        "讲座预告：人工智能时代的学术写作与文献检索",
        "Workshop: Machine learning for humanities data",
    }
    assert "Exhibition opening: Song dynasty ceramics from the archaeology collection" in matched(
        digs.id
    )
    assert "寒假开馆时间调整通知" not in matched(ai.id) | matched(digs.id)

    # Read again: both conditional mechanisms answer 304, nothing is announced again.
    before = session.scalar(select(func.count()).select_from(AlertDelivery))
    feed_server.routes.pop("/slow.rss")
    again = {r.url.rsplit("/", 1)[1]: r for r in read_all(feed_settings)}
    assert again["news.rss"].not_modified and again["events.atom"].not_modified
    assert feed_server.status_of("/news.rss")[-1].get("If-None-Match") == '"news-v1"'
    assert (
        feed_server.status_of("/events.atom")[-1].get("If-Modified-Since")
        == "Mon, 23 Nov 2026 01:00:00 GMT"
    )
    assert again["slow.rss"].error == "HTTP 404"
    match_pending(session)
    session.commit()
    assert session.scalar(select(func.count()).select_from(AlertDelivery)) == before

    # A server that ignores conditional GET sends the same entries: still nothing new.
    feed_server.routes["/news.rss"] = Route(NEWS)
    assert {r.url.rsplit("/", 1)[1]: r for r in read_all(feed_settings)}["news.rss"].new_items == 0

    # A new entry in the feed is the only new item.
    extra = NEWS.replace(
        b"<item>",
        "<item><title>数据库试用：人工智能文献库</title><guid>lib-news-20261124-09</guid>"
        "<link>https://lib.example.edu.cn/news/2026/11/trial</link></item><item>".encode(),
        1,
    )
    feed_server.routes["/news.rss"] = Route(extra, etag='"news-v2"')
    fresh = {r.url.rsplit("/", 1)[1]: r for r in read_all(feed_settings)}
    assert fresh["news.rss"].new_items == 1
    assert match_pending(session) == 1


def test_registering_and_removing_feeds(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFDESK_ALERTS_FEEDS", '["https://lib.example.org/config.rss"]')
    get_settings.cache_clear()
    with pytest.raises(FeedError, match="not an http"):
        add_feed(session, "ftp://lib.example.org/x.rss", by="li")
    assert add_feed(session, "https://lib.example.org/added.atom", by="li")
    assert [s.url for s in feed_states(session)] == [
        "https://lib.example.org/config.rss",
        "https://lib.example.org/added.atom",
    ]
    with pytest.raises(FeedError, match="REFDESK_ALERTS_FEEDS"):
        remove_feed(session, "https://lib.example.org/config.rss")
    with pytest.raises(FeedError, match="no registered feed"):
        remove_feed(session, "https://lib.example.org/never.rss")
    remove_feed(session, "https://lib.example.org/added.atom")
    assert [s.url for s in feed_states(session)] == ["https://lib.example.org/config.rss"]
    assert (
        session.get(FeedState, "https://lib.example.org/added.atom") is not None
    )  # its state stays
    get_settings.cache_clear()
