"""Supplied copies: stored under ``<home>/delivery``, downloaded with expiring tokens.

A token is ``<file id>.<expiry>.<signature>``: the file id is random (it says
nothing about the request or the patron), the expiry a Unix time, and the
signature an HMAC-SHA256 over both keyed with the key ring's index key
(:meth:`kb.crypto.KeyRing.blind_index`, purpose ``delivery-download``). The key
ring is already the one secret every process shares, so no second key and no
extra library (itsdangerous would add nothing here). A forged or altered token
fails the signature before the database is asked; an expired one is refused;
and once a file's download window closes, :func:`purge_expired` deletes its
bytes -- supplied copies are for the requesting patron only, not a library.
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import os
import re
import secrets
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.crypto import keyring
from kb.delivery.models import DeliveryRequest, SuppliedFile
from kb.settings import get_settings

_PURPOSE = "delivery-download"
DOWNLOAD_PATH = "/delivery/files/"
_CHUNK = 1024 * 1024
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


class FileRefused(ValueError):
    """An upload that cannot be stored (empty, too large); says which limit."""


class FileTooLarge(FileRefused):
    """Above ``delivery_max_file_bytes`` (HTTP answers 413 rather than 400)."""


class DownloadRefused(Exception):
    """A download token that does not give a file: malformed, forged, expired, or gone."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"download refused: {code}")


@dataclass(frozen=True)
class Download:
    path: Path
    filename: str
    content_type: str
    size: int


def storage_dir() -> Path:
    path = get_settings().delivery_dir
    path.mkdir(parents=True, exist_ok=True)
    return path


def safe_filename(name: str) -> str:
    """The last path part, without control or reserved characters (kept readable, incl. CJK)."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name))[-1]
    base = _UNSAFE_NAME.sub("_", base).strip(" .")
    return base[-200:] or "document"


def _chunks(content: bytes | BinaryIO) -> Iterator[bytes]:
    if isinstance(content, bytes):
        yield content
        return
    while chunk := content.read(_CHUNK):
        yield chunk


def store_file(
    session: Session,
    request: DeliveryRequest,
    *,
    filename: str,
    content: bytes | BinaryIO,
    uploaded_by: str,
    now: datetime,
    content_type: str | None = None,
) -> SuppliedFile:
    """Write an uploaded copy to the state directory and record it on the request."""
    limit = get_settings().delivery_max_file_bytes
    public_id = secrets.token_urlsafe(18)
    stored_name = hashlib.sha256(public_id.encode()).hexdigest()[:40]
    target = storage_dir() / stored_name
    partial = target.with_suffix(".part")
    digest, size = hashlib.sha256(), 0
    try:
        with partial.open("wb") as out:
            for chunk in _chunks(content):
                size += len(chunk)
                if size > limit:
                    raise FileTooLarge(
                        f"the file is larger than the {limit // (1024 * 1024)} MB limit"
                    )
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise FileRefused("the file is empty")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    name = safe_filename(filename)
    guessed = mimetypes.guess_type(name)[0]
    record = SuppliedFile(
        public_id=public_id,
        stored_name=stored_name,
        filename=name,
        content_type=content_type or guessed or "application/octet-stream",
        size=size,
        sha256=digest.hexdigest(),
        uploaded_by=uploaded_by,
        uploaded_at=now,
        expires_at=now + timedelta(days=get_settings().delivery_download_days),
    )
    request.files.append(record)
    session.flush()
    return record


def _signature(public_id: str, expires: int) -> str:
    return keyring().blind_index(f"{public_id}.{expires}", _PURPOSE)[:32]


def download_token(file: SuppliedFile) -> str:
    expires = int(file.expires_at.timestamp())
    return f"{file.public_id}.{expires}.{_signature(file.public_id, expires)}"


def download_url(file: SuppliedFile) -> str:
    """Where the gateway serves the file (``GET {DOWNLOAD_PATH}<token>``)."""
    return f"{get_settings().public_url.rstrip('/')}{DOWNLOAD_PATH}{download_token(file)}"


def resolve_download(session: Session, token: str, now: datetime) -> Download:
    parts = token.strip().split(".")
    if len(parts) != 3 or not parts[1].isdecimal():
        raise DownloadRefused("malformed")
    public_id, expires_text, signature = parts
    expected = _signature(public_id, int(expires_text))
    if not hmac.compare_digest(expected, signature):
        raise DownloadRefused("bad_signature")
    if datetime.fromtimestamp(int(expires_text), UTC) <= now:
        raise DownloadRefused("expired")
    file = session.scalar(select(SuppliedFile).where(SuppliedFile.public_id == public_id))
    path = storage_dir() / file.stored_name if file is not None else None
    if file is None or file.purged_at is not None or path is None or not path.exists():
        raise DownloadRefused("gone")
    if file.expires_at <= now:
        raise DownloadRefused("expired")
    return Download(
        path=path, filename=file.filename, content_type=file.content_type, size=file.size
    )


def extend_download(file: SuppliedFile, now: datetime, days: int | None = None) -> str:
    """Re-open an expired (not yet purged) file's download window; a new token."""
    if file.purged_at is not None:
        raise DownloadRefused("gone")
    file.expires_at = now + timedelta(days=days or get_settings().delivery_download_days)
    return download_token(file)


def purge_expired(session: Session, now: datetime) -> int:
    """Delete the bytes of copies whose download window has closed (the scheduler calls this).

    Also removes files no request refers to that are over a day old: an upload whose
    transaction was rolled back after the bytes were written.
    """
    expired = session.scalars(
        select(SuppliedFile).where(SuppliedFile.expires_at <= now, SuppliedFile.purged_at.is_(None))
    )
    count = 0
    for file in expired:
        (storage_dir() / file.stored_name).unlink(missing_ok=True)
        file.purged_at = now
        count += 1
    known = set(session.scalars(select(SuppliedFile.stored_name)))
    stale = (now - timedelta(days=1)).timestamp()
    for path in storage_dir().iterdir():
        if path.is_file() and path.name not in known and path.stat().st_mtime < stale:
            path.unlink(missing_ok=True)
    return count
