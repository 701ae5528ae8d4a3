from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb.crypto import keyring
from kb.db import savepoint, utcnow
from kb.inbound.models import SeenDelivery


def delivery_key(channel: str, raw_key: str) -> str:
    return keyring().blind_index(raw_key, "inbound:" + channel)


def claim_delivery(session: Session, channel: str, raw_key: str, ttl: timedelta) -> bool:
    """True the first time a delivery is seen within ``ttl``; False for a repeat."""
    key = delivery_key(channel, raw_key)
    now = utcnow()
    row = session.get(SeenDelivery, key)
    if row is not None:
        if row.expires_at > now:
            return False
        row.expires_at = now + ttl
        session.flush()
        return True
    try:
        with savepoint(session):
            session.add(SeenDelivery(key=key, expires_at=now + ttl))
    except IntegrityError:
        return False  # another worker claimed it a moment ago
    return True


def purge_seen(session: Session) -> int:
    """Forget expired keys (called now and then by whoever claims)."""
    result = session.execute(delete(SeenDelivery).where(SeenDelivery.expires_at <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def is_seen(session: Session, channel: str, raw_key: str) -> bool:
    key = delivery_key(channel, raw_key)
    return session.scalar(select(SeenDelivery.key).where(SeenDelivery.key == key)) is not None
