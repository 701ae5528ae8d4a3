"""Rotating the data keys: add a new encrypting key, then re-encrypt what older keys wrote.

This covers the app's encrypted columns and the engine's tracker store events
(``kb/tracker_keys.py``).

New writes use the first key of the ring as soon as it is added; old values stay
readable with the older keys until `reencrypt_all` has rewritten them, after which an
old key can be retired. The blind-index key is separate and is not rotated here:
changing it would break every look-up by e-mail or channel id.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from sqlalchemy import Column, Table, select, type_coerce, update
from sqlalchemy.orm import Session
from sqlalchemy.types import Text

import kb.models  # noqa: F401  (every table, so every encrypted column is found)
from kb.crypto import (
    PREFIX,
    EncryptedText,
    keyring,
    load_keyring,
    new_key_file_entry,
    reset_keyring,
)
from kb.db import Base
from kb.settings import get_settings
from kb.tracker_keys import LABEL as TRACKER_LABEL
from kb.tracker_keys import reencrypt_tracker, tracker_key_usage

BATCH = 500


def key_file() -> Path:
    return get_settings().home / "keys.json"


def add_key() -> str:
    """Prepend a fresh key to the key file; it encrypts from now on. Returns its id."""
    load_keyring()  # creates the key file on a new installation
    path = key_file()
    data = json.loads(path.read_text())
    key_id, key = new_key_file_entry()
    data["keys"].insert(0, [key_id, key])
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.chmod(0o600)
    tmp.replace(path)
    reset_keyring()
    return key_id


def retire_key(key_id: str) -> None:
    """Drop a key from the key file (refused while it is the encrypting key)."""
    path = key_file()
    data = json.loads(path.read_text())
    ids = [k for k, _ in data["keys"]]
    if key_id not in ids:
        raise KeyError(f"no key {key_id!r} in {path}")
    if ids[0] == key_id:
        raise ValueError(f"{key_id!r} is the key new data is encrypted with; add a new key first")
    data["keys"] = [pair for pair in data["keys"] if pair[0] != key_id]
    path.write_text(json.dumps(data, indent=2))
    reset_keyring()


def encrypted_columns() -> list[tuple[Table, Column[str]]]:
    return [
        (table, column)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, EncryptedText)
    ]


def _label(table: Table, column: Column[str]) -> str:
    return f"{table.name}.{column.name}"


def key_usage(session: Session) -> dict[str, Counter[str]]:
    """Per encrypted column, how many stored values each key id wrote."""
    ring = keyring()
    usage: dict[str, Counter[str]] = {}
    for table, column in encrypted_columns():
        raw = type_coerce(column, Text)
        counts: Counter[str] = Counter()
        for (stored,) in session.execute(select(raw).where(raw.is_not(None))):
            counts[ring.key_id_of(stored) or "plain"] += 1
        usage[_label(table, column)] = counts
    tracker = tracker_key_usage(get_settings().tracker_store_url, ring)
    if tracker is not None:  # the engine's conversation events (nlu/tracker_store.py)
        usage[TRACKER_LABEL] = tracker
    return usage


def reencrypt_all(session: Session) -> dict[str, int]:
    """Rewrite every value not under the current key; returns rewritten counts per column.

    Idempotent and restartable: each batch is committed, and a value already under
    the current key is left alone.
    """
    ring = keyring()
    rewritten: dict[str, int] = {}
    for table, column in encrypted_columns():
        raw = type_coerce(column, Text)
        pk = list(table.primary_key.columns)
        stale = raw.not_like(f"{PREFIX}:{ring.current_id}:%")
        done = 0
        while True:
            rows = session.execute(
                select(*pk, raw).where(raw.is_not(None), stale).limit(BATCH)
            ).all()
            if not rows:
                break
            for *keys, stored in rows:
                # A value written before encryption was switched on is encrypted as is.
                clear = ring.decrypt(stored) if ring.key_id_of(stored) else stored
                fresh = ring.encrypt(clear)
                where = [c == v for c, v in zip(pk, keys, strict=True)]
                session.execute(
                    update(table).where(*where).values({column.name: type_coerce(fresh, Text)})
                )
            session.commit()
            done += len(rows)
        rewritten[_label(table, column)] = done
    tracker = reencrypt_tracker(get_settings().tracker_store_url, ring)
    if tracker is not None:
        rewritten[TRACKER_LABEL] = tracker
    return rewritten
