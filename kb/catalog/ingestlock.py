"""Record and holding ids that readers can trust to be final.

The alerts worker reads new records and holdings past a cursor (the highest id it has
read). On PostgreSQL ids come from sequences when a transaction takes them, not when it
commits: while import A holds ids 1-1,000 uncommitted, import B may commit 1,001-2,000,
and a reader moving its cursor to 2,000 would never see A's records. So every
transaction that takes record or holding ids holds a shared advisory lock, and a reader
takes the same lock exclusively for a moment: once it has it, no transaction holds ids
it has not committed, and the highest ids then committed are a safe bound.

SQLite needs none of this: one transaction writes at a time, so ids commit in order.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.catalog.models import Holding, Record
from kb.db import is_sqlite

# Any constant unique among the advisory locks refdesk takes: "catalog ids".
_KEY = 0x6361_7461_6C6F_6769


def hold_for_ids(session: Session) -> None:
    """Call in a writing transaction before it takes record or holding ids; held until
    it ends. Many writers hold it at once."""
    if not is_sqlite(session):
        session.connection().exec_driver_sql("SELECT pg_advisory_xact_lock_shared(%s)", (_KEY,))


def committed_bounds(session: Session) -> tuple[int | None, int | None]:
    """(record id, holding id) bounds, or None for no bound: every id at or below them
    that will ever be committed is committed now."""
    if is_sqlite(session):
        return None, None
    connection = session.connection()
    # A session-level lock, released at once: the caller's transaction goes on; under
    # READ COMMITTED the next statement sees everything committed before it.
    connection.exec_driver_sql("SELECT pg_advisory_lock(%s)", (_KEY,))
    try:
        records = session.scalar(select(func.coalesce(func.max(Record.id), 0)))
        holdings = session.scalar(select(func.coalesce(func.max(Holding.id), 0)))
    finally:
        connection.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (_KEY,))
    return records, holdings
