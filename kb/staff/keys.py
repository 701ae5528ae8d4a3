"""API keys: ``rdk_<key id>_<secret>``, kept only as an scrypt hash of the secret.

The key id is public and indexed, so checking a key costs one row look-up and
one scrypt, not one scrypt per staff member. The secret is 32 random bytes, so
the slow hash is a second line of defence for a leaked table, not the first.
scrypt is in the standard library (hashlib), so no extra dependency.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PREFIX = "rdk"
# n=2**14, r=8: about 16 MB and a few tens of ms per check (OWASP's minimum is 2**17
# for passwords; these secrets are random 256-bit values, not guessable passwords).
_N, _R, _P = 2**14, 8, 1
_KEY = re.compile(rf"^{PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{40,64}})$")


@dataclass(frozen=True)
class NewKey:
    key_id: str
    secret: str

    @property
    def token(self) -> str:
        """What the staff member sends as ``Authorization: Bearer <token>``."""
        return f"{PREFIX}_{self.key_id}_{self.secret}"


def new_key() -> NewKey:
    return NewKey(secrets.token_hex(6), secrets.token_urlsafe(32))


def split_token(token: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed token, else None."""
    match = _KEY.match(token.strip())
    return (match.group(1), match.group(2)) if match else None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = base64.b64decode(digest)
    actual = hashlib.scrypt(
        secret.encode(),
        salt=base64.b64decode(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        dklen=len(expected),
        maxmem=128 * int(n) * int(r) * 2,
    )
    return hmac.compare_digest(actual, expected)
