"""What encrypting the tracker store costs per turn, measured on the store itself.

Each engine turn loads the conversation's events since the session started and
appends the new ones. This times that (retrieve + save of four events) for Rasa's own
SQL store and for ``EncryptedSQLTrackerStore``, on SQLite and on PostgreSQL, with
conversations of growing length. Run in the engine env:

    PYTHONPATH=. .venv-rasa/bin/python -m bench.tracker.store [--pg postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path

warnings.simplefilter("ignore")

from rasa.core.tracker_store import SQLTrackerStore  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from nlu.tracker_store import EncryptedSQLTrackerStore  # noqa: E402

TEXT = "I am looking for articles about 敦煌壁画 pigments, published after 2010, in English"


def _turn_events(i: int) -> list:
    return [
        UserUttered(f"{TEXT} #{i}", intent={"name": "search_catalog", "confidence": 0.9}),
        ActionExecuted("action_search_catalog"),
        BotUttered(f"Here are 5 results for your search #{i} 这是检索结果"),
        ActionExecuted("action_listen"),
    ]


def _time_turns(store, sender: str, turns: int) -> list[float]:
    async def run() -> list[float]:
        from rasa.shared.core.trackers import DialogueStateTracker

        took = []
        for i in range(turns):
            start = time.perf_counter()
            tracker = await store.retrieve(sender) or DialogueStateTracker(sender, [])
            for event in _turn_events(i):
                tracker.update(event)
            await store.save(tracker)
            took.append(time.perf_counter() - start)
        return took

    return asyncio.run(run())


def _config(url: str) -> dict:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return {"dialect": "sqlite", "db": parsed.database}
    return {
        "dialect": "postgresql",
        "host": parsed.host,
        "port": parsed.port or 5432,
        "db": parsed.database,
        "username": parsed.username,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="an empty PostgreSQL database URL to measure on too")
    parser.add_argument("--turns", type=int, default=100)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    key_file = tmp / "keys.json"
    key = base64.b64encode(os.urandom(32)).decode()
    key_file.write_text(json.dumps({"keys": [["k1", key]], "index_key": key}))
    urls = [f"sqlite:///{tmp / 'tracker.db'}"] + ([args.pg] if args.pg else [])
    domain = Domain.empty()
    print("| backend | store | turn (ms) median | at turn 1-10 | at turn 91-100 |")
    print("|---|---|---|---|---|")
    for url in urls:
        for name, store in (
            ("Rasa SQLTrackerStore", SQLTrackerStore(domain=domain, **_config(url))),
            (
                "EncryptedSQLTrackerStore",
                EncryptedSQLTrackerStore(domain=domain, key_file=str(key_file), **_config(url)),
            ),
        ):
            took = [t * 1000 for t in _time_turns(store, f"{name}-bench", args.turns)]
            print(
                f"| {make_url(url).get_backend_name()} | {name} | {statistics.median(took):.1f} "
                f"| {statistics.median(took[:10]):.1f} | {statistics.median(took[-10:]):.1f} |"
            )


if __name__ == "__main__":
    main()
