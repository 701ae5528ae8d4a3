"""WeChat's request signatures and the "safe mode" message encryption.

Signature: sha1 of the sorted, concatenated [token, timestamp, nonce] (plus the
Encrypt text for msg_signature), hex. Safe mode: AES-256-CBC with the 32-byte key
decoded from the 43-character EncodingAESKey (+ "="), IV = the key's first 16
bytes, PKCS#7 padding to 32-byte blocks, plaintext = 16 random bytes + 4-byte
network-order length + message + AppID, base64.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32


class CryptoError(Exception):
    """The Encrypt text cannot be decrypted or is not for this account."""


def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signature_ok(expected_from_request: str, *parts: str) -> bool:
    # Constant time: the comparison must not tell an attacker how much they got right.
    return hmac.compare_digest(signature(*parts).encode(), expected_from_request.encode())


def decode_aes_key(encoding_aes_key: str) -> bytes:
    if len(encoding_aes_key) != 43:
        raise ValueError("an EncodingAESKey has 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise ValueError("an EncodingAESKey is base64") from exc
    if len(key) != 32:
        raise ValueError("an EncodingAESKey decodes to 32 bytes")
    return key


def _pad(data: bytes) -> bytes:
    n = BLOCK - len(data) % BLOCK
    return data + bytes([n]) * n


def _unpad(data: bytes) -> bytes:
    if not data:
        raise CryptoError("empty plaintext")
    n = data[-1]
    if not 1 <= n <= BLOCK or data[-n:] != bytes([n]) * n:
        raise CryptoError("bad padding")
    return data[:-n]


def encrypt(key: bytes, appid: str, message: bytes, random16: bytes | None = None) -> str:
    plain = (random16 or os.urandom(16)) + struct.pack(">I", len(message)) + message
    plain += appid.encode("utf-8")
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(_pad(plain)) + encryptor.finalize()).decode()


def decrypt(key: bytes, appid: str, encrypted: str) -> bytes:
    """The message inside ``encrypted``; checks it was meant for ``appid``."""
    try:
        raw = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError) as exc:  # ValueError: a non-ASCII character
        raise CryptoError("Encrypt is not base64") from exc
    if not raw or len(raw) % 16:
        raise CryptoError("ciphertext is not whole AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = _unpad(decryptor.update(raw) + decryptor.finalize())
    if len(plain) < 20:
        raise CryptoError("plaintext too short")
    (length,) = struct.unpack(">I", plain[16:20])
    if 20 + length > len(plain):
        raise CryptoError("message length is beyond the plaintext")
    message, from_appid = plain[20 : 20 + length], plain[20 + length :]
    if not hmac.compare_digest(from_appid, appid.encode("utf-8")):
        raise CryptoError("message is for another AppID")
    return message


def decrypt_any(keys: list[bytes], appid: str, encrypted: str) -> tuple[bytes, bytes]:
    """Try the current key, then the previous one (during a key change); returns the
    message and the key that opened it."""
    errors = []
    for key in keys:
        try:
            return decrypt(key, appid, encrypted), key
        except CryptoError as exc:
            errors.append(str(exc))
    raise CryptoError("; ".join(errors) or "no EncodingAESKey configured")
