"""A gateway process alone (uvicorn, no engine behind it) for tests of what the gateway
does by itself: limits, headers, pages. Messages that reach the router are kept as
questions for a librarian, as when the engine is down."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.stack import free_port

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Gateway:
    url: str
    ws_url: str
    log: Path


@contextmanager
def gateway_process(home: Path, **settings: str) -> Iterator[Gateway]:
    """Run `bot.app` with REFDESK_* settings (keyword names without the prefix)."""
    port = free_port()
    env = {
        **os.environ,
        "REFDESK_HOME": str(home),
        "REFDESK_DATABASE_URL": f"sqlite:///{home / 'refdesk.db'}",
        "REFDESK_GATEWAY_PORT": str(port),
        "REFDESK_ENGINE_PORT": str(free_port()),  # nothing listens there
        **{f"REFDESK_{k.upper()}": v for k, v in settings.items()},
    }
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )
    log = home / f"gateway-{port}.log"
    command = [sys.executable, "-m", "uvicorn", "bot.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the gateway exited:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/livez", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)
        yield Gateway(url=url, ws_url=f"ws://127.0.0.1:{port}/ws/chat", log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
