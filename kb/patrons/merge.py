"""Merging two patron records into one (after a patron linked two channels).

Everything that points at the patron that goes away (channel identities,
conversations, questions, delivery tickets, queued messages, and whatever tables
later rooms add, such as alert subscriptions) is moved to the patron that stays.
The tables are found from the schema's foreign keys, so a new table that refers
to ``patrons.id`` follows without changes here.
"""

from __future__ import annotations

import logging

from sqlalchemy import Table, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import kb.models  # noqa: F401  (every table on Base.metadata, so none is missed)
from kb.db import Base, savepoint
from kb.patrons.models import Patron

log = logging.getLogger("refdesk.patrons")

# Contact and preference fields the staying patron takes over when it has none.
_FILL = ("language", "name", "email", "email_index", "phone", "home_library")


def _referencing_columns() -> list[tuple[Table, str]]:
    found = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "patrons" and fk.column.name == "id":
                found.append((table, fk.parent.name))
    return found


def merge_patrons(session: Session, *, keep: Patron, gone: Patron) -> None:
    """Move everything of ``gone`` to ``keep`` and delete ``gone``."""
    if keep.id == gone.id:
        return
    for name in _FILL:
        if getattr(keep, name) is None and getattr(gone, name) is not None:
            setattr(keep, name, getattr(gone, name))
    session.flush()
    for table, column in _referencing_columns():
        _move_rows(session, table, column, gone.id, keep.id)
    # Objects already loaded in this session still hold the old patron id.
    session.expire_all()
    session.execute(delete(Patron).where(Patron.id == gone.id))
    session.flush()


def _move_rows(session: Session, table: Table, column: str, old: int, new: int) -> None:
    col = table.c[column]
    try:
        with savepoint(session):
            session.execute(update(table).where(col == old).values({column: new}))
        return
    except IntegrityError:
        pass
    # A unique constraint (say, one subscription per patron and item) clashes: move
    # row by row and drop the rows the staying patron already has an equal of.
    pk = list(table.primary_key.columns)
    for row in session.execute(select(*pk).where(col == old)).all():
        where = [c == v for c, v in zip(pk, row, strict=True)]
        try:
            with savepoint(session):
                session.execute(update(table).where(*where).values({column: new}))
        except IntegrityError:
            log.info("merge: %s row %s duplicates the staying patron's; dropped", table.name, row)
            session.execute(delete(table).where(*where))
