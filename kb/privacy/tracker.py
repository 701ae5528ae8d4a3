"""Erasing conversations from the dialogue engine's own store (Rasa's SQL tracker store).

The engine keeps every event of a conversation (message text included) in its table
``events``, keyed by the sender id the gateway gives it (kb.patrons.service.sender_id).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import inspect, text

from kb.db import engine_for

log = logging.getLogger("refdesk.privacy")

TABLE = "events"


def delete_conversations(tracker_store_url: str, sender_ids: Iterable[str]) -> int:
    """Delete the engine's events of these conversations; how many rows went."""
    senders = sorted(set(sender_ids))
    if not senders:
        return 0
    engine = engine_for(tracker_store_url)
    if not inspect(engine).has_table(TABLE):  # the engine has not stored anything yet
        return 0
    deleted = 0
    with engine.begin() as conn:
        for sender in senders:
            result = conn.execute(text(f"DELETE FROM {TABLE} WHERE sender_id = :s"), {"s": sender})
            deleted += result.rowcount or 0
    log.info("privacy: %d engine events of %d conversations deleted", deleted, len(senders))
    return deleted


def count_events(tracker_store_url: str, sender_id: str) -> int:
    engine = engine_for(tracker_store_url)
    if not inspect(engine).has_table(TABLE):
        return 0
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(f"SELECT COUNT(*) FROM {TABLE} WHERE sender_id = :s"), {"s": sender_id}
            ).scalar_one()
        )
