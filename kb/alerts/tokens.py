"""Opaque, authenticated, expiring link tokens (unsubscribe and tracked links).

A token is the AES-256-GCM encryption (``kb.crypto`` key ring) of a small JSON
payload with a purpose and an expiry, in URL-safe base64: patrons cannot read the
ids inside, any change fails authentication, and a token for one purpose is useless
for another. Rotating keys keeps old links working while the old key stays in the ring.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta
from typing import Any

from kb.crypto import DecryptionError, keyring
from kb.db import utcnow


class TokenInvalid(ValueError):
    """Not a token we issued for this purpose (garbled, tampered, wrong purpose)."""


class TokenExpired(ValueError):
    """A genuine token past its expiry."""


def make(purpose: str, data: dict[str, Any], *, days: float, now: datetime | None = None) -> str:
    expires = (now or utcnow()) + timedelta(days=days)
    payload = json.dumps(
        {"p": purpose, "x": int(expires.timestamp()), **data}, separators=(",", ":")
    )
    sealed = keyring().encrypt(payload)
    return base64.urlsafe_b64encode(sealed.encode()).decode().rstrip("=")


def read(
    token: str, purpose: str, *, now: datetime | None = None, allow_expired: bool = False
) -> dict[str, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        sealed = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        payload = json.loads(keyring().decrypt(sealed))
    except (DecryptionError, binascii.Error, UnicodeError, ValueError) as exc:
        raise TokenInvalid("the link is not valid") from exc
    if not isinstance(payload, dict) or payload.get("p") != purpose:
        raise TokenInvalid("the link is not valid")
    if not allow_expired and int(payload.get("x", 0)) < (now or utcnow()).timestamp():
        raise TokenExpired("the link has expired")
    return payload
