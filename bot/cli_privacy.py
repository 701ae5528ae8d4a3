"""``refdesk privacy ...``: the retention job by hand, and patrons' rights for staff.

``retention [--dry-run]`` runs (or previews) what the daily job does; ``export PATRON``
prints everything held about patron id PATRON as JSON (a request made at the desk);
``forget PATRON`` erases them, as the chat's "delete my data" does.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from kb.settings import get_settings

privacy_app = typer.Typer(help="Privacy: retention job, export and erasure.", no_args_is_help=True)


def _url() -> str:
    from kb.migrate import upgrade

    url = get_settings().database_url
    upgrade(url)
    return url


@privacy_app.command("retention")
def retention_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="count only, change nothing")] = False,
) -> None:
    """Purge transcripts and anonymise closed tickets past their retention limits."""
    from kb.db import session_scope
    from kb.privacy import retention

    settings = get_settings()
    with session_scope(_url()) as session:
        run = retention.run(
            session,
            retention.Limits.of(settings),
            tracker_store_url=settings.tracker_store_url,
            dry_run=dry_run,
        )
        typer.echo(
            json.dumps(
                {"dry_run": run.dry_run, "limits": run.limits, "counts": run.counts},
                ensure_ascii=False,
            )
        )


@privacy_app.command("export")
def export_command(patron: Annotated[int, typer.Argument(help="patron id")]) -> None:
    """Print everything held about a patron as JSON."""
    from kb.db import session_scope
    from kb.privacy import export

    with session_scope(_url()) as session:
        try:
            data = export.assemble(session, patron)
        except export.ExportGone:
            typer.echo(f"No patron {patron} (never existed, or forgotten).", err=True)
            raise typer.Exit(1) from None
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@privacy_app.command("forget")
def forget_command(
    patron: Annotated[int, typer.Argument(help="patron id")],
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
) -> None:
    """Erase a patron (contact data, transcripts, subscriptions; tickets anonymised)."""
    from kb import engine_tracker as tracker
    from kb.db import session_scope
    from kb.privacy import forget

    if not yes:
        typer.confirm(f"Erase patron {patron} and everything held about them?", abort=True)
    settings = get_settings()
    with session_scope(_url()) as session:
        done = forget.forget_patron(session, patron, source="staff")
    if not done.erased:
        typer.echo(f"No patron {patron} (never existed, or already forgotten).")
        return
    events = tracker.delete_conversations(settings.tracker_store_url, done.sender_ids)
    typer.echo(json.dumps({**done.counts, "engine_events": events}))
