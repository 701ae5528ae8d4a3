"""Drive the engine's tracker store from the engine env (``.venv-rasa``), for app tests.

Run as ``python -m tests.support.engine_tracker '<json command>'`` by
``run_in_engine_env``; prints a JSON answer. Commands:

- ``{"op": "encrypt", "key_file": ..., "text": ...}`` / ``{"op": "decrypt", ..., "value": ...}``
- ``{"op": "save", "store": <endpoints.yml tracker_store>, "sender": ..., "texts": [...],
  "plain": bool}``: a conversation of patron messages, with Rasa's own (plaintext) SQL
  store when ``plain``
- ``{"op": "read", "store": ..., "sender": ...}``: the patron messages read back
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
ENGINE_PYTHON = REPO / ".venv-rasa" / "bin" / "python"


def run_in_engine_env(command: dict[str, Any]) -> Any:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PYTHONPATH=str(REPO), PYTHONWARNINGS="ignore", SQLALCHEMY_SILENCE_UBER_WARNING="1")
    result = subprocess.run(
        [str(ENGINE_PYTHON), "-m", "tests.support.engine_tracker", json.dumps(command)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _store(config: dict[str, Any], plain: bool = False) -> Any:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    from nlu.tracker_store import EncryptedSQLTrackerStore

    kwargs = {k: v for k, v in config.items() if k != "type"}
    kwargs["host"] = kwargs.pop("url", None)
    if plain:
        kwargs.pop("key_file")
        return SQLTrackerStore(domain=Domain.empty(), **kwargs)
    return EncryptedSQLTrackerStore(domain=Domain.empty(), **kwargs)


def _main(command: dict[str, Any]) -> Any:
    import asyncio

    from nlu.data_keys import load_data_keys

    op = command["op"]
    if op == "encrypt":
        return load_data_keys(Path(command["key_file"])).encrypt(command["text"])
    if op == "decrypt":
        return load_data_keys(Path(command["key_file"])).decrypt(command["value"])
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    store = _store(command["store"], plain=command.get("plain", False))
    if op == "save":
        tracker = asyncio.run(store.retrieve(command["sender"])) or DialogueStateTracker(
            command["sender"], []
        )
        for text in command["texts"]:
            tracker.update(UserUttered(text))
        asyncio.run(store.save(tracker))
        return len(tracker.events)
    if op == "read":
        tracker = asyncio.run(store.retrieve(command["sender"]))
        return [e.text for e in tracker.events if isinstance(e, UserUttered)]
    raise ValueError(f"unknown op {op!r}")


if __name__ == "__main__":
    print(json.dumps(_main(json.loads(sys.argv[1])), ensure_ascii=False))
