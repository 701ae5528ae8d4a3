"""``refdesk staff ...``: add staff members (prints their API key once), list, revoke."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.cli_session import migrated_session
from kb.staff.models import StaffRole

staff_app = typer.Typer(help="Staff members and their API keys.", no_args_is_help=True)
console = Console()


def _fail(message: str) -> None:
    typer.secho(message, err=True, fg=typer.colors.RED)
    raise typer.Exit(1)


@staff_app.command("add")
def add_command(
    username: Annotated[str, typer.Argument(help="login name, e.g. li.wei")],
    library: Annotated[
        str | None,
        typer.Option(help="code of the member library they work for; omit for the delivery centre"),
    ] = None,
    role: Annotated[StaffRole, typer.Option(help="librarian or admin")] = StaffRole.LIBRARIAN,
    name: Annotated[str | None, typer.Option(help="display name (default: the username)")] = None,
) -> None:
    """Add a staff member and print their API key (shown this once only)."""
    from kb.staff.service import StaffError, add_staff

    try:
        with migrated_session() as session:
            added = add_staff(session, username, library_code=library, role=role, display_name=name)
            where = added.member.library_code or "delivery centre"
            username = added.member.username
    except StaffError as exc:
        _fail(f"staff add: {exc}")
    typer.echo(f"Added {username} ({role.value}, {where}). API key, shown only now:")
    typer.echo(added.token)
    typer.echo("Send it as the header:  Authorization: Bearer <key>")


@staff_app.command("list")
def list_command() -> None:
    """List staff members (keys are never shown again)."""
    from kb.staff.service import list_staff

    with migrated_session() as session:
        members = list_staff(session)
        table = Table("username", "name", "library", "role", "created", "active")
        for m in members:
            table.add_row(
                m.username,
                m.display_name,
                m.library_code or "(centre)",
                m.role.value,
                m.created_at.date().isoformat(),
                "yes" if m.active else f"revoked {m.revoked_at:%Y-%m-%d}",
            )
    if not members:
        typer.echo(
            "No staff members yet: add one with `refdesk staff add USERNAME --library CODE`."
        )
        return
    console.print(table)


@staff_app.command("revoke")
def revoke_command(username: Annotated[str, typer.Argument(help="login name")]) -> None:
    """Switch a staff member's API key off (for good)."""
    from kb.staff.service import StaffError, revoke

    try:
        with migrated_session() as session:
            revoke(session, username)
    except StaffError as exc:
        _fail(f"staff revoke: {exc}")
    typer.echo(f"Revoked the API key of {username}.")


@staff_app.command("library")
def library_command(
    username: Annotated[str, typer.Argument(help="login name")],
    library: Annotated[
        str | None, typer.Option(help="code of the member library they now work for")
    ] = None,
    centre: Annotated[
        bool, typer.Option("--centre", help="they work for the delivery centre (all requests)")
    ] = False,
) -> None:
    """Set which member library a staff member works for (their delivery queue)."""
    from kb.staff.service import StaffError, set_library

    if (library is None) == (not centre):
        _fail("staff library: give either --library CODE or --centre")
    try:
        with migrated_session() as session:
            set_library(session, username, None if centre else library)
    except StaffError as exc:
        _fail(f"staff library: {exc}")
    typer.echo(f"{username} now works for {library or 'the delivery centre'}.")


@staff_app.command("passwd")
def passwd_command(
    username: Annotated[str, typer.Argument(help="login name")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Set a staff member's console password (argon2id hash; signs their consoles out)."""
    import sys

    from kb.console.logins import set_password
    from kb.console.passwords import PasswordError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("New console password", hide_input=True, confirmation_prompt=True)
    try:
        with migrated_session() as session:
            set_password(session, username, password)
    except (LookupError, PasswordError) as exc:
        _fail(f"staff passwd: {exc}")
    typer.echo(f"Console password set for {username}.")
