"""Rasa's SQL tracker store with every event encrypted at rest.

Each event row keeps Rasa's columns; ``data`` (the event as JSON: what the patron
wrote, what the bot answered, slot values) is stored AES-256-GCM encrypted with the
app's data keys (``nlu/data_keys.py``). ``intent_name`` and ``action_name`` stay clear:
they are names from the domain, not patron text, and Rasa filters on them. A row
written before encryption was switched on is read as it is, and
``refdesk keys reencrypt`` encrypts it.

Configured in the engine's endpoints.yml (``bot/supervisor.py``)::

    tracker_store:
      type: nlu.tracker_store.EncryptedSQLTrackerStore
      dialect: sqlite | postgresql
      db: ...
      key_file: <state dir>/keys.json
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, _create_sequence
from sqlalchemy.ext.declarative import declarative_base
from sqlalchemy.types import TypeDecorator

from nlu.data_keys import DataKeyRing, is_encrypted, load_data_keys


class EncryptedEventData(TypeDecorator):
    """Rasa's ``events.data`` text, encrypted on write and decrypted on read."""

    impl = sa.Text
    cache_ok = True
    # Set by the store when it starts (one key ring per engine process).
    ring: DataKeyRing | None = None

    def _ring(self) -> DataKeyRing:
        if self.ring is None:
            raise RuntimeError("EncryptedSQLTrackerStore was not given its key ring")
        return self.ring

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else self._ring().encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if value is None or not is_encrypted(value):
            return value  # written before encryption: plain JSON
        return self._ring().decrypt(value)


class EncryptedSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` whose ``events.data`` column is encrypted (same table layout)."""

    # A base of its own so the column type below is the one Rasa's queries use.
    Base = declarative_base()

    class SQLEvent(Base):
        __tablename__ = "events"

        id = sa.Column(sa.Integer, _create_sequence(__tablename__), primary_key=True)
        sender_id = sa.Column(sa.String(255), nullable=False, index=True)
        type_name = sa.Column(sa.String(255), nullable=False)
        timestamp = sa.Column(sa.Float)
        intent_name = sa.Column(sa.String(255))
        action_name = sa.Column(sa.String(255))
        data = sa.Column(EncryptedEventData)

    def __init__(self, *args: Any, key_file: str | None = None, **kwargs: Any) -> None:
        if not key_file:
            raise ValueError("EncryptedSQLTrackerStore needs `key_file` in endpoints.yml")
        # Fails here, at engine start, when the keys are missing or malformed.
        EncryptedEventData.ring = load_data_keys(Path(key_file))
        super().__init__(*args, **kwargs)
