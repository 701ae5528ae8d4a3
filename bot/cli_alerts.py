"""``refdesk alerts ...``: the topic vocabulary with subscriber counts, the news/events
feeds (add, list, remove, read now), matching now, and per-topic figures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.cli_session import migrated_session

alerts_app = typer.Typer(
    help="Topical alerts: topics, feeds, matching, figures.", no_args_is_help=True
)
feeds_app = typer.Typer(help="Library news and events feeds (RSS/Atom).", no_args_is_help=True)
alerts_app.add_typer(feeds_app, name="feeds")
console = Console(width=160)


def _fail(message: str) -> None:
    typer.secho(message, err=True, fg=typer.colors.RED)
    raise typer.Exit(1)


@alerts_app.command("topics")
def topics_command(
    all_topics: Annotated[
        bool, typer.Option("--all", help="also classes nobody subscribes to")
    ] = False,
) -> None:
    """The topic vocabulary (CLC classes) with how many patrons subscribe to each,
    then the free keywords patrons subscribed to."""
    from kb.alerts.models import TopicKind
    from kb.alerts.subscriptions import topic_counts
    from kb.alerts.vocabulary import vocabulary

    with migrated_session() as session:
        counts = topic_counts(session)
    table = Table("code", "中文", "English", "subscribers")
    for topic in vocabulary().topics.values():
        n = counts.get((TopicKind.CLASS.value, topic.code), 0)
        if n or all_topics:
            table.add_row(topic.code, topic.zh, topic.en, str(n))
    keywords = sorted(
        ((v, n) for (k, v), n in counts.items() if k == TopicKind.KEYWORD.value),
        key=lambda p: (-p[1], p[0]),
    )
    for value, n in keywords:
        table.add_row("(keyword)", value, value, str(n))
    console.print(table)
    typer.echo(f"{len(vocabulary().topics)} classes in the vocabulary, {len(keywords)} keywords")


@feeds_app.command("add")
def feeds_add(
    url: Annotated[str, typer.Argument(help="RSS or Atom feed address")],
    by: Annotated[str, typer.Option(help="who adds it (kept with the feed)")] = "cli",
) -> None:
    """Read this feed from now on (every REFDESK_ALERTS_FEED_MINUTES)."""
    from kb.alerts.feeds import FeedError, add_feed

    try:
        with migrated_session() as session:
            added = add_feed(session, url, by=by)
    except FeedError as exc:
        _fail(f"feeds add: {exc}")
    typer.echo(f"Added {url}" if added else f"{url} was already registered")


@feeds_app.command("remove")
def feeds_remove(url: Annotated[str, typer.Argument(help="a registered feed address")]) -> None:
    """Stop reading a feed (items it produced stay)."""
    from kb.alerts.feeds import FeedError, remove_feed

    try:
        with migrated_session() as session:
            remove_feed(session, url)
    except FeedError as exc:
        _fail(f"feeds remove: {exc}")
    typer.echo(f"Removed {url}")


@feeds_app.command("list")
def feeds_list() -> None:
    """The feeds read, with their title, last check and last error."""
    from kb.alerts.feeds import feed_states
    from kb.settings import get_settings

    configured = set(get_settings().alerts_feeds)
    with migrated_session() as session:
        rows = [
            (
                s.url,
                "settings" if s.url in configured else f"added by {s.added_by}",
                s.title or "",
                s.last_checked.isoformat(timespec="seconds") if s.last_checked else "never",
                s.last_error or "",
            )
            for s in feed_states(session)
        ]
    table = Table("url", "from", "title", "last checked", "last error")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    if not rows:
        typer.echo("No feeds: add one with `refdesk alerts feeds add URL`.")


@alerts_app.command("fetch")
def fetch_command() -> None:
    """Read every feed now; new entries become items. Exit 1 when a feed failed."""
    from kb.alerts.feeds import read_all
    from kb.migrate import upgrade
    from kb.settings import get_settings

    settings = get_settings()
    upgrade(settings.database_url)
    results = read_all(settings)
    for r in results:
        if r.error:
            typer.secho(f"{r.url}: failed: {r.error}", fg=typer.colors.RED)
        elif r.not_modified:
            typer.echo(f"{r.url}: not modified")
        else:
            typer.echo(f"{r.url}: {r.new_items} new")
    if not results:
        typer.echo("No feeds to read.")
    if any(r.error for r in results):
        raise typer.Exit(1)


@alerts_app.command("match")
def match_command() -> None:
    """Turn new catalog records and holdings into items and match every unmatched item
    to its subscribers now (what the worker does every REFDESK_ALERTS_POLL_SECONDS)."""
    from kb.alerts.items import collect_and_match

    with migrated_session() as session:
        items, written = collect_and_match(session)
    typer.echo(f"{items} new items, {written} alerts matched")


@alerts_app.command("stats")
def stats_command(
    since: Annotated[
        datetime | None, typer.Option("--from", help="start, e.g. 2026-11-01T00:00:00+08:00")
    ] = None,
    until: Annotated[datetime | None, typer.Option("--to", help="end (default: now)")] = None,
    lang: Annotated[str, typer.Option(help="labels in zh or en")] = "zh",
) -> None:
    """Per topic: subscribers, consenting subscribers, alerts queued and pending, clicks,
    click rate, opened e-mail alerts and open rate (consenting patrons only)."""
    from kb.alerts.engagement import figures

    for name, value in (("--from", since), ("--to", until)):
        if value is not None and value.tzinfo is None:
            _fail(f"stats: {name} needs a time zone, e.g. 2026-11-01T00:00:00+08:00")
    if lang not in ("zh", "en"):
        _fail("stats: --lang is zh or en")
    with migrated_session() as session:
        data = figures(session, since=since, until=until, language=lang)
    table = Table(
        "topic",
        "subscribers",
        "consenting",
        "queued",
        "pending",
        "clicks",
        "click rate",
        "opens",
        "open rate",
    )
    for r in data["topics"]:
        rate = f"{r['click_rate']:.1%}" if r["click_rate"] is not None else "–"
        opened = f"{r['open_rate']:.1%}" if r["open_rate"] is not None else "–"
        table.add_row(
            r["label"],
            str(r["subscribers"]),
            str(r["consenting_subscribers"]),
            str(r["queued"]),
            str(r["pending"]),
            str(r["clicks"]),
            rate,
            str(r["opens"]),
            opened,
        )
    console.print(table)
    typer.echo(f"{data['from']} – {data['to']}; {data['note']}")
