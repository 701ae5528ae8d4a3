"""The data-encryption key ring, as the engine process sees it.

This is a deliberate copy of the few lines of ``kb/crypto.py`` that define the
stored format (``enc1:<key id>:<base64(nonce || AES-256-GCM ciphertext)>``, the key
id as associated data) and how the ring is assembled (the key file, then
``REFDESK_DATA_KEYS`` in front). ``nlu/`` runs in the engine env and may not import
``kb/`` (SQLAlchemy 2, settings), and there is no room both may import, so the
format is shared, not the code. ``tests/nlu/test_tracker_store_env.py`` checks that
a value encrypted by either side decrypts on the other.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc1"
ENV_KEYS = "REFDESK_DATA_KEYS"


class DataKeyError(RuntimeError):
    """The key ring is missing or unusable, or a value does not decrypt with it."""


@dataclass(frozen=True)
class DataKeyRing:
    keys: dict[str, bytes]
    current_id: str

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        key = AESGCM(self.keys[self.current_id])
        ct = key.encrypt(nonce, plaintext.encode("utf-8"), self.current_id.encode())
        return f"{PREFIX}:{self.current_id}:{base64.b64encode(nonce + ct).decode()}"

    def decrypt(self, stored: str) -> str:
        prefix, key_id, payload = (stored.split(":", 2) + ["", ""])[:3]
        if prefix != PREFIX:
            raise DataKeyError("value is not in the encrypted format")
        key = self.keys.get(key_id)
        if key is None:
            raise DataKeyError(f"no key with id {key_id!r} in the key ring")
        raw = base64.b64decode(payload)
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], key_id.encode()).decode("utf-8")
        except Exception as exc:  # InvalidTag: tampered or wrong key
            raise DataKeyError(f"value does not authenticate under key {key_id!r}") from exc


def is_encrypted(stored: str) -> bool:
    return stored.startswith(PREFIX + ":")


def _parse_env_keys(spec: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for item in filter(None, (p.strip() for p in spec.split(","))):
        key_id, _, b64 = item.partition(":")
        key = base64.b64decode(b64)
        if len(key) != 32:
            raise DataKeyError(f"{ENV_KEYS}: key {key_id!r} must be 32 bytes (base64)")
        keys[key_id] = key
    return keys


def load_data_keys(key_file: Path) -> DataKeyRing:
    """The ring of ``key_file`` (written by the app), ``REFDESK_DATA_KEYS`` first."""
    try:
        pairs = json.loads(key_file.read_text())["keys"]
        keys = {kid: base64.b64decode(k) for kid, k in pairs}
        current = pairs[0][0]
    except FileNotFoundError as exc:
        raise DataKeyError(f"key file {key_file} does not exist; start with `refdesk up`") from exc
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise DataKeyError(f"key file {key_file} is not a refdesk key file: {exc}") from exc
    env_keys = _parse_env_keys(os.environ.get(ENV_KEYS, ""))
    if env_keys:
        current = next(iter(env_keys))
        keys = {**keys, **env_keys}
    return DataKeyRing(keys=keys, current_id=current)
