"""A leader lease in the database: of several alert workers (one per gateway host, or
a restarted one while the old one's lease runs), one holds the lease and runs the jobs.
A holder renews well before expiry; a dead holder's lease lapses and another takes it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb.alerts.models import AlertLease
from kb.db import savepoint, utcnow

NAME = "alerts-scheduler"


def acquire(
    session: Session, holder: str, seconds: float, *, name: str = NAME, now: datetime | None = None
) -> bool:
    """Take or renew the lease; True when ``holder`` has it for ``seconds`` from now."""
    moment = now or utcnow()
    until = moment + timedelta(seconds=seconds)
    result = session.execute(
        update(AlertLease)
        .where(
            AlertLease.name == name,
            or_(AlertLease.holder == holder, AlertLease.expires_at < moment),
        )
        .values(holder=holder, expires_at=until)
    )
    if getattr(result, "rowcount", 0):
        session.commit()
        return True
    if session.get(AlertLease, name) is not None:
        session.rollback()
        return False
    try:
        with savepoint(session):
            session.add(AlertLease(name=name, holder=holder, expires_at=until))
        session.commit()
        return True
    except IntegrityError:
        session.rollback()
        return False


def holds(session: Session, holder: str, *, name: str = NAME, now: datetime | None = None) -> bool:
    lease = session.get(AlertLease, name)
    return lease is not None and lease.holder == holder and lease.expires_at > (now or utcnow())


def release(session: Session, holder: str, *, name: str = NAME) -> None:
    lease = session.get(AlertLease, name)
    if lease is not None and lease.holder == holder:
        session.delete(lease)
    session.commit()
