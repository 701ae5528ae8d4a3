"""``refdesk outbound ...``: what staff need until the console shows it.

``dead`` lists dead letters and uncertain sends (newest first) with the reason;
``requeue ID`` sends one again after a person decided the patron does not have it;
``run`` starts the worker alone (``python -m bot.outbound``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from kb.settings import get_settings

outbound_app = typer.Typer(help="The outbound message queue.", no_args_is_help=True)
console = Console()


@contextmanager
def _session() -> Iterator[Session]:
    from kb.db import session_scope
    from kb.migrate import upgrade

    url = get_settings().database_url
    upgrade(url)
    with session_scope(url) as session:
        yield session


@outbound_app.command("dead")
def dead_command(
    limit: Annotated[int, typer.Option(help="show at most this many")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON lines")] = False,
) -> None:
    """Dead letters and uncertain sends, for staff to review."""
    from bot.outbound.store import for_staff
    from kb.outbound.service import body_of

    with _session() as session:
        rows = for_staff(session, limit)
        if as_json:
            for r in rows:
                typer.echo(
                    json.dumps(
                        {
                            "id": r.id,
                            "status": r.status.value,
                            "kind": r.kind,
                            "patron_id": r.patron_id,
                            "channel": r.sent_channel or r.channel,
                            "attempts": r.attempts,
                            "created_at": r.created_at.isoformat(),
                            "error": r.last_error,
                            "text": body_of(r)["text"],
                        },
                        ensure_ascii=False,
                    )
                )
            return
        if not rows:
            console.print("No dead letters or uncertain sends.")
            return
        table = Table(title=f"{len(rows)} message(s) for staff review")
        for col in ("id", "status", "kind", "patron", "channel", "tries", "queued at", "why"):
            table.add_column(col, overflow="fold")
        for r in rows:
            table.add_row(
                r.id[:8],
                r.status.value,
                r.kind,
                str(r.patron_id),
                r.sent_channel or r.channel or "-",
                str(r.attempts),
                f"{r.created_at:%Y-%m-%d %H:%M}",
                r.last_error or "",
            )
        console.print(table)


@outbound_app.command("requeue")
def requeue_command(
    message_id: Annotated[str, typer.Argument(help="message id (or its first 8 characters)")],
) -> None:
    """Send a dead or uncertain message again (a person decided it is needed)."""
    from sqlalchemy import select

    from bot.outbound.store import requeue
    from kb.outbound import OutboundMessage

    with _session() as session:
        ids = session.scalars(
            select(OutboundMessage.id).where(OutboundMessage.id.startswith(message_id))
        ).all()
        if len(ids) != 1:
            typer.secho(
                f"{len(ids)} messages match {message_id!r}; give more of the id",
                err=True,
                fg=typer.colors.RED,
            )
            raise typer.Exit(1)
        row = requeue(session, ids[0])
        if row is None:
            typer.secho("only dead or uncertain messages can be requeued", err=True, fg="red")
            raise typer.Exit(1)
        console.print(f"Requeued {row.id}.")


@outbound_app.command("run")
def run_command() -> None:
    """Run the outbound worker on its own (the gateway runs one already)."""
    from bot.outbound.__main__ import main

    asyncio.run(main())
