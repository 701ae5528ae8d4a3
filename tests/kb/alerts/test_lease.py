"""One leader among alert workers: the lease is renewed by its holder, refused to others
until it lapses, then taken over; the ex-leader's jobs see they no longer lead."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from kb.alerts import lease
from kb.db import utcnow


def test_one_leader_until_its_lease_lapses(session: Session) -> None:
    now = utcnow()
    assert lease.acquire(session, "a", 30, now=now)
    assert not lease.acquire(session, "b", 30, now=now + timedelta(seconds=5))
    assert lease.acquire(session, "a", 30, now=now + timedelta(seconds=10))  # renewed to +40
    assert not lease.acquire(session, "b", 30, now=now + timedelta(seconds=35))
    assert lease.holds(session, "a", now=now + timedelta(seconds=35))
    assert lease.acquire(session, "b", 30, now=now + timedelta(seconds=41))
    assert not lease.holds(session, "a", now=now + timedelta(seconds=41))
    assert not lease.acquire(session, "a", 30, now=now + timedelta(seconds=42))
    lease.release(session, "a")  # not the holder: nothing happens
    assert lease.holds(session, "b", now=now + timedelta(seconds=42))
    lease.release(session, "b")
    assert lease.acquire(session, "a", 30, now=now + timedelta(seconds=43))
