"""`refdesk alerts ...` through typer's runner on a real database and a real local feed
server: topics with counts, feeds add/list/remove, fetch, match, stats."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kb.alerts import consent
from kb.settings import get_settings
from tests.kb.alerts.conftest import subscribe
from tests.kb.alerts.test_feeds_http import NEWS, FeedServer, Route, feed_server  # noqa: F401


def test_alerts_cli(
    session: Session,
    db_url: str,
    feed_server: FeedServer,  # noqa: F811 (the fixture imported above)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.cli import app

    monkeypatch.setenv("REFDESK_DATABASE_URL", db_url)
    monkeypatch.setenv("REFDESK_ALERTS_FEED_TIMEOUT_SECONDS", "2")
    get_settings.cache_clear()
    ai = subscribe(session, "人工智能")
    subscribe(session, "artificial intelligence", language="en")
    subscribe(session, "东野圭吾")
    consent.record(session, ai.patron_id, True, source="chat")
    session.commit()
    feed_server.routes = {
        "/news.rss": Route(NEWS, etag='"v1"'),
        "/broken.xml": Route(b"<rss><channel><title>cut"),
    }
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, ["alerts", *args])
        assert result.exit_code == code, result.output
        return result.output

    topics = run("topics")
    tp18 = next(line for line in topics.splitlines() if "TP18" in line)
    assert "人工智能" in tp18 and tp18.rstrip(" │|").endswith("2")
    assert "东野圭吾" in topics
    assert "TP3 " not in topics  # nobody subscribes to it: only shown with --all
    assert "TP3 " in run("topics", "--all")

    assert "not an http" in run("feeds", "add", "lib.example.org/feed", code=1)
    news, broken = feed_server.url("/news.rss"), feed_server.url("/broken.xml")
    assert "Added" in run("feeds", "add", news, "--by", "li.wei")
    assert "already" in run("feeds", "add", news)
    run("feeds", "add", broken)
    listed = run("feeds", "list")
    assert "/news.rss" in listed and "li.wei" in listed and "never" in listed

    fetched = run("fetch", code=1)  # the broken feed fails the command, not the others
    assert "news.rss: 3 new" in fetched
    assert "broken.xml: failed: not a readable RSS/Atom feed" in fetched
    assert "北京大学图书馆" in run("feeds", "list")
    assert "news.rss: not modified" in run("fetch", code=1)

    assert "alerts matched" in (matched := run("match"))
    assert matched.split(",")[1].strip().startswith("2 ")  # the 人工智能 talk for two patrons
    assert run("match").endswith("0 new items, 0 alerts matched\n")

    stats = run("stats", "--lang", "en")
    ai_row = next(line for line in stats.splitlines() if "TP18" in line)
    assert "Artificial intelligence" in ai_row
    assert "opted in" in stats
    assert "time zone" in run("stats", "--from", "2026-11-01T00:00:00", code=1)

    assert "Removed" in run("feeds", "remove", broken)
    assert "no registered feed" in run("feeds", "remove", broken, code=1)
    assert "news.rss: not modified" in run("fetch")
    get_settings.cache_clear()
