"""The encrypted tracker store: events are unreadable in the database file, read back
whole (also by a freshly started store), old plaintext rows still load, and a value
that does not decrypt stops the load instead of being taken for something else."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sqlite3
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from nlu.data_keys import DataKeyError, load_data_keys
from nlu.tracker_store import EncryptedSQLTrackerStore

SECRET = "我想借《红楼梦》脂评本 my card number is 2024001234"
DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet]
slots:
  library_barcode:
    type: text
    influence_conversation: false
    mappings: [{type: custom}]
"""
)


def _key_file(path: Path, *key_ids: str) -> Path:
    keys = [[kid, base64.b64encode(os.urandom(32)).decode()] for kid in key_ids]
    path.write_text(json.dumps({"keys": keys, "index_key": keys[0][1]}))
    return path


def _store(db: Path, key_file: Path) -> EncryptedSQLTrackerStore:
    return EncryptedSQLTrackerStore(
        domain=DOMAIN, dialect="sqlite", db=str(db), key_file=str(key_file)
    )


def _conversation(sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    tracker.update(UserUttered(SECRET, intent={"name": "greet", "confidence": 1.0}))
    tracker.update(SlotSet("library_barcode", "2024001234"))
    tracker.update(BotUttered("您好 Hello, 2024001234"))
    tracker.update(ActionExecuted("action_listen"))
    return tracker


def _raw_data(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT data FROM events ORDER BY id")]


def test_events_are_encrypted_in_the_file_and_read_back_after_a_restart(tmp_path) -> None:
    db, keys = tmp_path / "tracker.db", _key_file(tmp_path / "keys.json", "k1")
    asyncio.run(_store(db, keys).save(_conversation("alice")))

    assert all(value.startswith("enc1:k1:") for value in _raw_data(db))
    on_disk = b"".join(p.read_bytes() for p in tmp_path.glob("tracker.db*"))
    # Rasa writes JSON with non-ASCII escaped, so look for the escaped Chinese too.
    escaped = json.dumps("红楼梦").strip('"')
    for secret in ("红楼梦", escaped, "2024001234", "Hello", "card number"):
        assert secret.encode() not in on_disk, secret

    restarted = _store(db, keys)  # a new engine process: a new store, same keys
    tracker = asyncio.run(restarted.retrieve("alice"))
    assert tracker.latest_message.text == SECRET
    assert tracker.get_slot("library_barcode") == "2024001234"
    assert asyncio.run(restarted.keys()) == ["alice"]


def test_rows_written_before_encryption_still_load_and_new_ones_are_encrypted(tmp_path) -> None:
    db, keys = tmp_path / "tracker.db", _key_file(tmp_path / "keys.json", "k1")
    plain = SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    asyncio.run(plain.save(_conversation("bob")))
    assert "card number" in _raw_data(db)[0]  # Rasa's own store: plaintext JSON

    store = _store(db, keys)
    tracker = asyncio.run(store.retrieve("bob"))
    assert tracker.latest_message.text == SECRET
    tracker.update(UserUttered("第二句 second message"))
    asyncio.run(store.save(tracker))
    raw = _raw_data(db)
    assert not raw[0].startswith("enc1:") and raw[-1].startswith("enc1:k1:")
    reloaded = asyncio.run(_store(db, keys).retrieve("bob"))
    assert reloaded.latest_message.text == "第二句 second message"
    assert reloaded.get_slot("library_barcode") == "2024001234"


def test_every_key_of_the_ring_decrypts_and_the_first_encrypts(tmp_path) -> None:
    db = tmp_path / "tracker.db"
    old = _key_file(tmp_path / "old.json", "k1")
    asyncio.run(_store(db, old).save(_conversation("carol")))
    rotated = json.loads(old.read_text())
    new = _key_file(tmp_path / "new.json", "k2")
    both = json.loads(new.read_text())
    both["keys"] += rotated["keys"]  # `refdesk keys rotate` puts the new key first
    new.write_text(json.dumps(both))

    store = _store(db, new)
    tracker = asyncio.run(store.retrieve("carol"))
    assert tracker.latest_message.text == SECRET
    tracker.update(UserUttered("after rotation"))
    asyncio.run(store.save(tracker))
    assert _raw_data(db)[0].startswith("enc1:k1:") and _raw_data(db)[-1].startswith("enc1:k2:")


def test_keys_from_the_environment_come_first(tmp_path, monkeypatch) -> None:
    keys = _key_file(tmp_path / "keys.json", "k1")
    env_key = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("REFDESK_DATA_KEYS", f"env1:{env_key}")
    ring = load_data_keys(keys)
    assert ring.current_id == "env1" and set(ring.keys) == {"env1", "k1"}
    monkeypatch.setenv("REFDESK_DATA_KEYS", "bad:c2hvcnQ=")
    with pytest.raises(DataKeyError, match="32 bytes"):
        load_data_keys(keys)


def test_missing_keys_stop_the_engine_start_with_a_clear_message(tmp_path) -> None:
    with pytest.raises(DataKeyError, match="does not exist"):
        _store(tmp_path / "tracker.db", tmp_path / "nowhere.json")
    (tmp_path / "junk.json").write_text("[1, 2]")
    with pytest.raises(DataKeyError, match="not a refdesk key file"):
        _store(tmp_path / "tracker.db", tmp_path / "junk.json")
    with pytest.raises(ValueError, match="key_file"):
        EncryptedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db"))


def test_a_tampered_or_foreign_row_is_refused_not_misread(tmp_path) -> None:
    db, keys = tmp_path / "tracker.db", _key_file(tmp_path / "keys.json", "k1")
    asyncio.run(_store(db, keys).save(_conversation("dave")))
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE events SET data = replace(data, 'enc1:k1:', 'enc1:k9:') WHERE id = 2")
    with pytest.raises(DataKeyError, match="k9"):
        asyncio.run(_store(db, keys).retrieve("dave"))
