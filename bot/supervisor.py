"""Starts, watches and stops the processes: engine, action server, gateway, and the
alerts worker.

Each child runs in its own process group so Ctrl-C reaches only the
supervisor, which then stops the children in order (alerts, gateway, actions, engine).
A child that dies unexpectedly is restarted with backoff. Output lines are
prefixed with the process name and also written to ``<home>/logs/<name>.log``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml
from sqlalchemy.engine import make_url

from bot.envs import ENGINE_ENV, engine_process_env
from kb.crypto import ensure_key_file
from kb.settings import REPO_ROOT, Settings

COLORS = {"engine": "\033[35m", "actions": "\033[36m", "gateway": "\033[32m", "alerts": "\033[33m"}
RESET = "\033[0m"
START_TIMEOUT = {"engine": 420.0, "actions": 90.0, "gateway": 60.0, "alerts": 30.0}


@dataclass
class Child:
    name: str
    cmd: list[str]
    env: dict[str, str]
    health: Callable[[], Awaitable[bool]]
    process: asyncio.subprocess.Process | None = None
    restarts: list[float] = field(default_factory=list)
    pump: asyncio.Task[None] | None = None


def engine_token(settings: Settings) -> str:
    """The engine API token: from settings, else one kept in the state directory."""
    if settings.engine_token:
        return settings.engine_token
    path = settings.home / "engine.token"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


# Rasa's SQL tracker store with events encrypted by the app's data keys (nlu/).
TRACKER_STORE_TYPE = "nlu.tracker_store.EncryptedSQLTrackerStore"


def tracker_store_config(url: str, key_file: Path) -> dict[str, object]:
    """The engine's tracker store settings from a SQLAlchemy URL.

    The engine gets the key file's path, never a key: it reads the keys itself.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return {
            "type": TRACKER_STORE_TYPE,
            "dialect": "sqlite",
            "db": parsed.database,
            "key_file": str(key_file),
        }
    if backend == "postgresql":
        config: dict[str, object] = {
            "type": TRACKER_STORE_TYPE,
            "key_file": str(key_file),
            "dialect": "postgresql",
            "url": parsed.host or "127.0.0.1",
            "port": parsed.port or 5432,
            "db": parsed.database,
            "username": parsed.username or "postgres",
        }
        if parsed.password:
            config["password"] = parsed.password
        return config
    raise ValueError(f"REFDESK_TRACKER_STORE_URL: unsupported backend {backend!r}")


def lock_store_config(redis_url: str) -> dict[str, object] | None:
    if not redis_url:
        return None  # in-memory lock store: fine for a single engine process
    parsed = make_url(redis_url.replace("redis://", "redis+x://", 1))
    config: dict[str, object] = {
        "type": "redis",
        "url": parsed.host or "127.0.0.1",
        "port": parsed.port or 6379,
        "db": int(parsed.database or 0),
        "key_prefix": "refdesk",
    }
    if parsed.password:
        config["password"] = parsed.password
    return config


def write_engine_config(settings: Settings) -> tuple[Path, Path]:
    run_dir = settings.home / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    endpoints: dict[str, object] = {
        "action_endpoint": {"url": f"{settings.actions_url}/webhook"},
        "tracker_store": tracker_store_config(
            settings.tracker_store_url, ensure_key_file(settings.home)
        ),
    }
    lock_store = lock_store_config(settings.redis_url)
    if lock_store:
        endpoints["lock_store"] = lock_store
    credentials = {"rest": None, "nlu.channels.gateway.GatewayInput": None}
    endpoints_file, credentials_file = run_dir / "endpoints.yml", run_dir / "credentials.yml"
    endpoints_file.write_text(yaml.safe_dump(endpoints))
    credentials_file.write_text(yaml.safe_dump(credentials))
    return endpoints_file, credentials_file


class Supervisor:
    def __init__(self, settings: Settings, model: Path, echo: Callable[[str], None] = print):
        self.settings = settings
        self.model = model
        self.echo = echo
        self.stopping = False
        self.token = engine_token(settings)
        self.log_dir = settings.home / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.children = {c.name: c for c in self._children()}
        self._watch: asyncio.Task[None] | None = None

    # --- process definitions ------------------------------------------------

    def _children(self) -> list[Child]:
        s = self.settings
        endpoints, credentials = write_engine_config(s)
        app_env = {
            **os.environ,
            "REFDESK_HOME": str(s.home),
            "REFDESK_DATABASE_URL": s.database_url,
            "REFDESK_ENGINE_TOKEN": self.token,
            "PYTHONUNBUFFERED": "1",
        }
        engine_cmd = [
            str(ENGINE_ENV / "bin" / "rasa"),
            "run",
            "--model",
            str(self.model),
            "--enable-api",
            # One argument: a token starting with "-" (token_urlsafe makes 1 in 32) would
            # otherwise be read as an option and the engine would refuse to start.
            f"--auth-token={self.token}",
            "--interface",
            s.bind_host,
            "--port",
            str(s.engine_port),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(credentials),
            "--response-timeout",
            str(int(s.engine_timeout_seconds) + 5),
        ]
        actions_cmd = [
            sys.executable,
            "-m",
            "rasa_sdk",
            "--actions",
            "actions",
            "--port",
            str(s.actions_port),
        ]
        gateway_cmd = [sys.executable, "-m", "bot.gateway"]

        async def engine_ok() -> bool:
            return await _get_ok(f"{s.engine_url}/status?token={self.token}", need="model_file")

        async def actions_ok() -> bool:
            return await _get_ok(f"{s.actions_url}/health")

        async def gateway_ok() -> bool:
            return await _get_ok(f"{s.gateway_url}/livez")

        return [
            Child("engine", engine_cmd, self._engine_env(app_env), engine_ok),
            Child("actions", actions_cmd, {**app_env, "SANIC_HOST": s.bind_host}, actions_ok),
            Child("gateway", gateway_cmd, app_env, gateway_ok),
            # Topical alerts: matching, digests, e-mail, feeds (bot/alerts/worker.py says
            # why it is a process of its own). Healthy while it runs.
            Child("alerts", [sys.executable, "-m", "bot.alerts"], app_env, self._alive("alerts")),
        ]

    def _engine_env(self, app_env: dict[str, str]) -> dict[str, str]:
        env = {**engine_process_env(), **_only_refdesk(app_env)}
        if self.settings.data_keys:
            # Keys set in a settings file reach the engine's tracker store this way too.
            env["REFDESK_DATA_KEYS"] = self.settings.data_keys
        return env

    def _alive(self, name: str) -> Callable[[], Awaitable[bool]]:
        async def alive() -> bool:
            child = self.children.get(name)
            return bool(child and child.process and child.process.returncode is None)

        return alive

    # --- lifecycle ------------------------------------------------------------

    async def start(self, only: list[str] | None = None) -> None:
        names = only or list(self.children)
        for name in names:
            await self._spawn(self.children[name])
        await asyncio.gather(*(self.wait_healthy(n) for n in names))
        if self._watch is None:
            self._watch = asyncio.create_task(self._watch_children())

    async def wait_healthy(self, name: str, timeout: float | None = None) -> None:
        child = self.children[name]
        deadline = time.monotonic() + (timeout or START_TIMEOUT[name])
        while time.monotonic() < deadline:
            if await child.health():
                self.echo(f"{name} is ready")
                return
            await asyncio.sleep(0.5)
        raise TimeoutError(f"{name} did not become healthy; see {self.log_dir / (name + '.log')}")

    async def _spawn(self, child: Child) -> None:
        log_file = (self.log_dir / f"{child.name}.log").open("ab")
        child.process = await asyncio.create_subprocess_exec(
            *child.cmd,
            cwd=REPO_ROOT,
            env=child.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        (self.settings.home / "run" / f"{child.name}.pid").write_text(str(child.process.pid))
        child.pump = asyncio.create_task(self._pump(child, log_file))

    async def _pump(self, child: Child, log_file) -> None:  # type: ignore[no-untyped-def]
        assert child.process is not None and child.process.stdout is not None
        color = COLORS.get(child.name, "") if sys.stdout.isatty() else ""
        reset = RESET if color else ""
        with log_file:
            async for line in child.process.stdout:
                log_file.write(line)
                log_file.flush()
                text = line.decode("utf-8", "replace").rstrip()
                if text:
                    self.echo(f"{color}{child.name:>7} |{reset} {text}")

    async def _watch_children(self) -> None:
        while not self.stopping:
            await asyncio.sleep(1.0)
            for child in self.children.values():
                proc = child.process
                if proc is None or proc.returncode is None or self.stopping:
                    continue
                now = time.monotonic()
                child.restarts = [t for t in child.restarts if now - t < 300]
                delay = min(2 ** len(child.restarts), 30)
                self.echo(f"{child.name} exited with {proc.returncode}; restarting in {delay}s")
                child.restarts.append(now)
                child.process = None
                await asyncio.sleep(delay)
                if not self.stopping:
                    await self._spawn(child)

    async def stop(self) -> None:
        self.stopping = True
        if self._watch is not None:
            self._watch.cancel()
        for name in ("alerts", "gateway", "actions", "engine"):
            await self._terminate(self.children[name])

    async def _terminate(self, child: Child) -> None:
        proc = child.process
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), timeout=15)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
        if child.pump is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(child.pump, timeout=5)

    async def run_until_signal(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await self.start()
            s = self.settings
            self.echo("")
            self.echo(f"  Web chat:  {s.public_url}/chat")
            self.echo(f"  Console:   {s.public_url}/console")
            if s.telegram_enabled:
                # The gateway decides: a webhook URL means webhook, otherwise long polling.
                how = (
                    f"webhook {s.telegram_webhook_url}"
                    if s.telegram_webhook_url
                    else "long polling (set REFDESK_TELEGRAM_WEBHOOK_URL for a webhook)"
                )
                self.echo(f"  Telegram:  {how}")
            self.echo("  Press Ctrl-C to stop.")
            self.echo("")
            await stop.wait()
        finally:
            self.echo("Stopping ...")
            await self.stop()
            self.echo("Stopped.")


def _only_refdesk(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith("REFDESK_")}


async def _get_ok(url: str, need: str | None = None) -> bool:
    try:
        async with httpx.AsyncClient(timeout=3.0) as client:
            resp = await client.get(url)
    except httpx.HTTPError:
        return False
    if resp.status_code != 200:
        return False
    return need is None or bool(resp.json().get(need))
