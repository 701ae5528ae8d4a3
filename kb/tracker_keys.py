"""Key rotation for the engine's tracker store (``settings.tracker_store_url``).

The engine's store (``nlu/tracker_store.py``) encrypts the ``data`` column of Rasa's
``events`` table in the same ``enc1:`` format as the app's columns. Here that column
is counted per key and re-encrypted under the current key, like the app's columns in
``kb/key_rotation.py``; rows written before encryption was switched on (plain JSON)
are encrypted. Only the table's name and two columns are assumed, no Rasa code.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select, update

from kb.crypto import PREFIX, KeyRing
from kb.engine_tracker import connect, events

LABEL = "tracker events.data"
BATCH = 500


def tracker_key_usage(url: str, ring: KeyRing) -> Counter[str] | None:
    """How many tracker events each key id wrote ("plain": not encrypted)."""
    with connect(url) as conn:
        if conn is None:
            return None
        counts: Counter[str] = Counter()
        for (stored,) in conn.execute(select(events.c.data).where(events.c.data.is_not(None))):
            counts[ring.key_id_of(stored) or "plain"] += 1
        return counts


def reencrypt_tracker(url: str, ring: KeyRing) -> int | None:
    """Rewrite every tracker event not under the current key; restartable, per batch."""
    with connect(url) as conn:
        if conn is None:
            return None
        stale = events.c.data.not_like(f"{PREFIX}:{ring.current_id}:%")
        done, after = 0, -1
        while True:
            # Walk by id: each batch starts after the last one (the engine keeps appending).
            rows = conn.execute(
                select(events.c.id, events.c.data)
                .where(events.c.data.is_not(None), stale, events.c.id > after)
                .order_by(events.c.id)
                .limit(BATCH)
            ).all()
            if not rows:
                return done
            for row_id, stored in rows:
                clear = ring.decrypt(stored) if ring.key_id_of(stored) else stored
                conn.execute(
                    update(events).where(events.c.id == row_id).values(data=ring.encrypt(clear))
                )
            conn.commit()
            done += len(rows)
            after = rows[-1][0]
