"""The dialogue engine's own store (Rasa's SQL tracker store, ``settings.tracker_store_url``).

The engine keeps every event of a conversation in its table ``events``, keyed by the
sender id the gateway gives it (kb.patrons.service.sender_id); ``nlu/tracker_store.py``
encrypts the ``data`` column. Erasure, retention and key rotation reach the table
here, assuming only its name and four columns, never Rasa code.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    func,
    inspect,
    select,
)
from sqlalchemy.engine import Connection, make_url

log = logging.getLogger("refdesk.privacy")

events = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("timestamp", Float),
    Column("data", Text),
)


@contextmanager
def connect(url: str) -> Iterator[Connection | None]:
    """A connection to the tracker store, or None when the engine has not created it yet."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or not Path(parsed.database).exists():
            yield None  # never create the engine's file from here
            return
        engine = create_engine(parsed, connect_args={"timeout": 30})
    else:
        # The engine reaches PostgreSQL with psycopg2; the app env has psycopg 3.
        engine = create_engine(parsed.set(drivername=f"{backend}+psycopg"))
    try:
        with engine.connect() as conn:
            yield conn if inspect(conn).has_table(events.name) else None
    finally:
        engine.dispose()


def delete_conversations(url: str, sender_ids: Iterable[str]) -> int:
    """Delete the engine's events of these conversations; how many rows went."""
    senders = sorted(set(sender_ids))
    if not senders:
        return 0
    with connect(url) as conn:
        if conn is None:
            return 0
        deleted = conn.execute(delete(events).where(events.c.sender_id.in_(senders))).rowcount
        conn.commit()
    log.info("privacy: %d engine events of %d conversations deleted", deleted, len(senders))
    return int(deleted or 0)


def delete_older_than(url: str, cutoff: datetime, *, dry_run: bool = False) -> int:
    """The engine's copy of old messages (Rasa stores a UNIX timestamp per event)."""
    old = events.c.timestamp < cutoff.timestamp()
    with connect(url) as conn:
        if conn is None:
            return 0
        if dry_run:
            return int(
                conn.execute(select(func.count()).select_from(events).where(old)).scalar_one()
            )
        deleted = conn.execute(delete(events).where(old)).rowcount
        conn.commit()
        return int(deleted or 0)


def count_events(url: str, sender_id: str) -> int:
    with connect(url) as conn:
        if conn is None:
            return 0
        return int(
            conn.execute(
                select(func.count()).select_from(events).where(events.c.sender_id == sender_id)
            ).scalar_one()
        )
