"""``refdesk keys ...``: rotate the data-encryption keys and re-encrypt stored data."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from bot.cli_session import migrated_session
from kb import key_rotation

keys_app = typer.Typer(help="Data-encryption keys.", no_args_is_help=True)
console = Console()


@keys_app.command("status")
def status_command() -> None:
    """How many stored values each key encrypted, per encrypted column."""
    with migrated_session() as session:
        usage = key_rotation.key_usage(session)
    table = Table("column", "values per key id")
    for column, counts in usage.items():
        table.add_row(column, ", ".join(f"{k}: {n}" for k, n in counts.most_common()) or "-")
    console.print(table)


@keys_app.command("rotate")
def rotate_command() -> None:
    """Add a new key to the key file; new data is encrypted with it from now on."""
    key_id = key_rotation.add_key()
    typer.echo(f"New encrypting key: {key_id}. Restart refdesk, then run `refdesk keys reencrypt`.")


@keys_app.command("reencrypt")
def reencrypt_command() -> None:
    """Re-encrypt every stored value that an older key wrote (restartable)."""
    with migrated_session() as session:
        rewritten = key_rotation.reencrypt_all(session)
    for column, count in rewritten.items():
        if count:
            typer.echo(f"{column}: {count} re-encrypted")
    typer.echo(f"Done: {sum(rewritten.values())} values re-encrypted.")


@keys_app.command("retire")
def retire_command(key_id: str) -> None:
    """Remove an old key from the key file once `keys status` shows it no longer used."""
    with migrated_session() as session:
        usage = key_rotation.key_usage(session)
    still = sum(counts.get(key_id, 0) for counts in usage.values())
    if still:
        typer.secho(
            f"{still} values are still encrypted with {key_id}; run `refdesk keys reencrypt` first",
            err=True,
            fg=typer.colors.RED,
        )
        raise typer.Exit(1)
    try:
        key_rotation.retire_key(key_id)
    except (KeyError, ValueError) as exc:
        typer.secho(str(exc.args[0]), err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from exc
    typer.echo(f"Key {key_id} retired.")
