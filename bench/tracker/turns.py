"""Turn latency of the real engine with Rasa's SQL tracker store and with the encrypted
one: starts ``rasa run`` with the trained model once per store (engine only, no action
server, so the turns are ones answered from the domain) and times REST turns.

    .venv/bin/python -m bench.tracker.turns
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from bot.envs import ENGINE_ENV, engine_process_env, model_path
from kb.crypto import ensure_key_file
from kb.settings import REPO_ROOT
from tests.support.stack import free_port

TURNS = ["hello", "你好", "hi there", "您好", "good morning"] * 4


def _run(store: dict[str, object], home: Path) -> list[float]:
    port = free_port()
    endpoints = home / f"endpoints-{store['type']}.yml"
    endpoints.write_text(yaml.safe_dump({"tracker_store": store}))
    cmd = [
        str(ENGINE_ENV / "bin" / "rasa"),
        "run",
        "--model",
        str(model_path(REPO_ROOT / "models")),
    ]
    cmd += ["--enable-api", "--port", str(port), "--endpoints", str(endpoints)]
    engine = subprocess.Popen(
        cmd,
        cwd=REPO_ROOT,
        env=engine_process_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/status", timeout=3).json().get("model_file"):
                    break
            except (httpx.HTTPError, ValueError):
                time.sleep(1)
        took = []
        for text in TURNS:
            start = time.perf_counter()
            reply = httpx.post(
                f"{url}/webhooks/rest/webhook",
                json={"sender": "bench", "message": text},
                timeout=60,
            )
            took.append(time.perf_counter() - start)
            assert reply.status_code == 200 and reply.json(), reply.text
        return took
    finally:
        engine.terminate()
        engine.wait(30)


def main() -> None:
    home = Path(tempfile.mkdtemp())
    key_file = ensure_key_file(home)
    plain = {"type": "SQL", "dialect": "sqlite", "db": str(home / "plain.db")}
    encrypted = {
        "type": "nlu.tracker_store.EncryptedSQLTrackerStore",
        "dialect": "sqlite",
        "db": str(home / "encrypted.db"),
        "key_file": str(key_file),
    }
    for name, store in (("Rasa SQLTrackerStore", plain), ("EncryptedSQLTrackerStore", encrypted)):
        took = [t * 1000 for t in _run(store, home)[1:]]  # the first turn warms the model up
        print(
            f"| {name} | {len(took)} | {statistics.median(took):.0f} | "
            f"{statistics.mean(took):.0f} | {max(took):.0f} |"
        )


if __name__ == "__main__":
    main()
