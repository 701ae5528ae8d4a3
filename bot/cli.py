"""The ``refdesk`` command line."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot import envs
from bot.cli_alerts import alerts_app
from bot.cli_catalog import catalog_app
from bot.cli_keys import keys_app
from bot.cli_privacy import privacy_app
from bot.cli_staff import staff_app
from bot.outbound.cli import outbound_app
from kb.settings import REPO_ROOT, get_settings

app = typer.Typer(help="refdesk: a virtual reference desk for libraries.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(catalog_app, name="catalog")
app.add_typer(staff_app, name="staff")
app.add_typer(keys_app, name="keys")
app.add_typer(outbound_app, name="outbound")
app.add_typer(alerts_app, name="alerts")
app.add_typer(privacy_app, name="privacy")


def _echo(message: str) -> None:
    typer.echo(message)


def _fail(message: str, code: int = 1) -> None:
    typer.secho(message, err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all schema migrations to the configured database."""
    from kb.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    _echo(f"Database is up to date: {settings.database_url}")


def prepare_data() -> None:
    """Migrate, and load the bundled FAQ and sample catalog into an empty database."""
    from kb.bootstrap import load_bundled_data
    from kb.db import session_scope
    from kb.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    with session_scope(settings.database_url) as session:
        for line in load_bundled_data(session):
            _echo(line)


@app.command()
def train(
    force: Annotated[bool, typer.Option(help="Train even if the model is current.")] = False,
) -> None:
    """Train the dialogue model if its inputs changed (reuses the last model otherwise)."""
    try:
        envs.train(get_settings().models_dir, force=force, echo=_echo)
    except envs.EnvError as exc:
        _fail(str(exc))


@app.command()
def up() -> None:
    """Set everything up and run engine, action server and gateway until Ctrl-C."""
    from bot.supervisor import Supervisor

    settings = get_settings()
    try:
        envs.ensure_engine_env(_echo)
        prepare_data()
        model = envs.train(settings.models_dir, echo=_echo)
    except envs.EnvError as exc:
        _fail(str(exc))
    supervisor = Supervisor(settings, model, echo=_echo)
    try:
        asyncio.run(supervisor.run_until_signal())
    except TimeoutError as exc:
        _fail(str(exc))


@app.command()
def shell() -> None:
    """Chat in the terminal through the gateway, the same path as the web chat."""
    from bot.terminal_chat import run_terminal_chat

    settings = get_settings()
    try:
        asyncio.run(run_terminal_chat(settings))
    except ConnectionError as exc:
        _fail(str(exc))


@app.command("nlu-eval")
def nlu_eval(
    paths: Annotated[list[Path], typer.Argument(help="Rasa 3 NLU YAML files or folders of them")],
) -> None:
    """Evaluate the current model on labelled NLU examples; prints JSON."""
    for path in paths:
        if not path.exists():
            _fail(f"nlu-eval: {path}: no such file or folder", code=2)
    settings = get_settings()
    try:
        model = envs.train(settings.models_dir, echo=lambda m: typer.echo(m, err=True))
    except envs.EnvError as exc:
        _fail(str(exc))
    cmd = [
        str(envs.ENGINE_ENV / "bin" / "python"),
        "-m",
        "nlu.evaluation",
        "--model",
        str(model),
        *[str(p.resolve()) for p in paths],
    ]
    result = subprocess.run(cmd, cwd=REPO_ROOT, env=envs.engine_process_env())
    raise typer.Exit(result.returncode)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def test(ctx: typer.Context) -> None:
    """Run the whole test suite (sets up the engine env, trains the model, then pytest)."""
    settings = get_settings()
    try:
        envs.ensure_engine_env(_echo)
        envs.train(settings.models_dir, echo=_echo)
    except envs.EnvError as exc:
        _fail(str(exc))
    ensure_chromium()
    result = subprocess.run([sys.executable, "-m", "pytest", *ctx.args], cwd=REPO_ROOT)
    if result.returncode == 5:
        _fail("pytest collected no tests: the suite is missing or the selection matched nothing")
    raise typer.Exit(result.returncode)


def ensure_chromium() -> None:
    """Browser tests drive Debian's chromium; install it when we can (root), else explain."""
    if Path("/usr/bin/chromium").exists():
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        _echo("Installing chromium from Debian packages for the browser tests ...")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
            check=True,
            env=env,
        )
        return
    _fail("The browser tests need Debian's chromium: run `sudo apt-get install chromium`.")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
