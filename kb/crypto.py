"""Encryption at rest for patron data and transcripts.

AES-256-GCM (an AEAD from ``cryptography``) with a key ring: the first key
encrypts, every key decrypts, so keys can be rotated without a flag day.
Values are stored as ``enc1:<key id>:<base64(nonce || ciphertext)>``.
Look-ups by value (an e-mail address, a channel user id) use a keyed
HMAC-SHA256 "blind index", never the clear value.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from kb.settings import get_settings

PREFIX = "enc1"


class DecryptionError(Exception):
    """A stored value could not be decrypted with any known key."""


@dataclass(frozen=True)
class KeyRing:
    keys: dict[str, bytes]
    current_id: str
    index_key: bytes

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        aad = self.current_id.encode()
        ct = AESGCM(self.keys[self.current_id]).encrypt(nonce, plaintext.encode("utf-8"), aad)
        return f"{PREFIX}:{self.current_id}:{base64.b64encode(nonce + ct).decode()}"

    def decrypt(self, stored: str) -> str:
        try:
            prefix, key_id, payload = stored.split(":", 2)
        except ValueError as exc:
            raise DecryptionError("value is not in the encrypted format") from exc
        if prefix != PREFIX:
            raise DecryptionError(f"unknown encryption format {prefix!r}")
        key = self.keys.get(key_id)
        if key is None:
            raise DecryptionError(f"no key with id {key_id!r} in the key ring")
        raw = base64.b64decode(payload)
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], key_id.encode()).decode("utf-8")
        except Exception as exc:  # InvalidTag: tampered or wrong key
            raise DecryptionError(f"value does not authenticate under key {key_id!r}") from exc

    def key_id_of(self, stored: str) -> str | None:
        parts = stored.split(":", 2)
        return parts[1] if len(parts) == 3 and parts[0] == PREFIX else None

    def blind_index(self, value: str, purpose: str) -> str:
        """Keyed hash for equality look-ups; ``purpose`` separates domains (email, phone...)."""
        msg = f"{purpose}\x00{value}".encode()
        return hmac.new(self.index_key, msg, hashlib.sha256).hexdigest()


def _parse_keys(spec: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for item in filter(None, (p.strip() for p in spec.split(","))):
        key_id, _, b64 = item.partition(":")
        key = base64.b64decode(b64)
        if len(key) != 32:
            raise ValueError(f"REFDESK_DATA_KEYS: key {key_id!r} must be 32 bytes (base64)")
        keys[key_id] = key
    return keys


def key_file_path(home: Path) -> Path:
    return home / "keys.json"


def new_key_file_entry() -> tuple[str, str]:
    return f"k{secrets.token_hex(4)}", base64.b64encode(os.urandom(32)).decode()


def ensure_key_file(home: Path) -> Path:
    """The key file of ``home``, created with a fresh key on a new installation."""
    path = key_file_path(home)
    if not path.exists():
        key_id, key = new_key_file_entry()
        data = {"keys": [[key_id, key]], "index_key": base64.b64encode(os.urandom(32)).decode()}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.chmod(0o600)
        # Another process may have created it first: theirs wins.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
        tmp.unlink()
    return path


def load_keyring() -> KeyRing:
    settings = get_settings()
    data = json.loads(ensure_key_file(settings.home).read_text())
    keys = {kid: base64.b64decode(k) for kid, k in data["keys"]}
    current = data["keys"][0][0]
    if settings.data_keys:
        env_keys = _parse_keys(settings.data_keys)
        current = next(iter(env_keys))
        keys = {**keys, **env_keys}
    return KeyRing(keys=keys, current_id=current, index_key=base64.b64decode(data["index_key"]))


_lock = threading.Lock()
_ring: KeyRing | None = None


def keyring() -> KeyRing:
    global _ring
    with _lock:
        if _ring is None:
            _ring = load_keyring()
        return _ring


def reset_keyring() -> None:
    """Forget the cached key ring (after settings or the key file change)."""
    global _ring
    with _lock:
        _ring = None


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted; reads and writes plain ``str`` in Python."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: object) -> str | None:
        return None if value is None else keyring().encrypt(value)

    def process_result_value(self, value: str | None, dialect: object) -> str | None:
        return None if value is None else keyring().decrypt(value)
