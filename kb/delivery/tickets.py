"""Ticket numbers ``DD-<year>-<6 digits>`` from a per-year counter.

The counter row is bumped with ``UPDATE ... RETURNING`` inside the caller's
transaction: PostgreSQL holds the row lock until commit, SQLite holds its write
lock, so two concurrent requests never get the same number and a rolled-back
request does not leave a gap behind a later committed one in the same year.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb.db import savepoint
from kb.delivery.models import TicketCounter

PREFIX = "DD"
_TICKET = re.compile(r"^\s*DD\s*[-_ ]?\s*(\d{4})\s*[-_ ]?\s*(\d{1,6})\s*$", re.IGNORECASE)


def format_ticket(year: int, number: int) -> str:
    if not 0 < number <= 999_999:
        raise ValueError(f"ticket number {number} is out of range for year {year}")
    return f"{PREFIX}-{year}-{number:06d}"


def normalize_ticket(text: str) -> str | None:
    """``dd-2026-123`` or full-width ``ＤＤ－２０２６－１２３`` -> ``DD-2026-000123``; else None."""
    match = _TICKET.match(unicodedata.normalize("NFKC", text))
    if match is None:
        return None
    number = int(match.group(2))
    return format_ticket(int(match.group(1)), number) if number else None


def next_ticket(session: Session, year: int) -> str:
    """Take the next number of ``year`` (in the caller's transaction)."""
    bump = (
        update(TicketCounter)
        .where(TicketCounter.year == year)
        .values(last=TicketCounter.last + 1)
        .returning(TicketCounter.last)
    )
    number = session.execute(bump).scalar_one_or_none()
    if number is None:
        try:
            with savepoint(session):
                session.execute(insert(TicketCounter).values(year=year, last=1))
            number = 1
        except IntegrityError:
            # Another transaction created the year's row first: bump theirs.
            number = session.execute(bump).scalar_one()
    return format_ticket(year, number)
