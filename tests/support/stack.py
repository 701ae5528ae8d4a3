"""Start the real assistant (engine, action server, gateway) the way `refdesk up` does."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    home: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ports['gateway']}/ws/chat"

    @property
    def database_url(self) -> str:
        return self.env["REFDESK_DATABASE_URL"]

    @contextlib.contextmanager
    def db(self) -> Iterator[Session]:
        """A session on the stack's database, decrypting with the stack's key ring."""
        from kb.crypto import reset_keyring
        from kb.db import session_scope
        from kb.settings import get_settings

        previous = os.environ.get("REFDESK_HOME")
        os.environ["REFDESK_HOME"] = str(self.home)
        get_settings.cache_clear()
        reset_keyring()
        try:
            with session_scope(self.database_url) as session:
                yield session
        finally:
            if previous is None:
                os.environ.pop("REFDESK_HOME", None)
            else:
                os.environ["REFDESK_HOME"] = previous
            get_settings.cache_clear()
            reset_keyring()

    def pid(self, name: str) -> int:
        return int((self.home / "run" / f"{name}.pid").read_text())

    def kill(self, name: str) -> None:
        """Kill one of the three processes hard (its whole process group)."""
        os.killpg(self.pid(name), signal.SIGKILL)

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.gateway_url}/healthz", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_healthy(self, timeout: float = 420) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"refdesk up exited early; log:\n{self.log_tail()}")
            if self.healthy():
                return
            time.sleep(1)
        raise TimeoutError(f"stack not healthy after {timeout}s; log:\n{self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_stack(home: Path, extra_env: dict[str, str] | None = None) -> Stack:
    ports = {name: free_port() for name in ("engine", "actions", "gateway")}
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REFDESK_")},
        "REFDESK_HOME": str(home),
        "REFDESK_DATABASE_URL": f"sqlite:///{home / 'refdesk.db'}",
        "REFDESK_TRACKER_STORE_URL": f"sqlite:///{home / 'tracker.db'}",
        "REFDESK_ENGINE_PORT": str(ports["engine"]),
        "REFDESK_ACTIONS_PORT": str(ports["actions"]),
        "REFDESK_GATEWAY_PORT": str(ports["gateway"]),
        **(extra_env or {}),
    }
    log = home / "stack.log"
    process = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "refdesk"), "up"],
        cwd=REPO,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    stack = Stack(home=home, env=env, process=process, log=log, ports=ports)
    try:
        stack.wait_healthy()
    except BaseException:
        stack.stop()
        raise
    return stack
