"""Request drafts from the OpenURL page, handed to the web chat by a short-lived token.

A link resolver sends the patron to ``/openurl``; the page shows what the link
names and a button into the chat. The button carries a token
``<draft id>.<expiry>.<signature>`` (HMAC with the key ring's index key, like
supplied-file tokens), so the chat can fetch the pre-filled citation without a
login, a changed token is refused before the database is asked, and a draft is
only good for ``delivery_draft_hours``. The raw link is kept (encrypted: some
resolvers put patron ids in ``req_id``) so the page and the chat can show what
was sent.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, String, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from kb.crypto import EncryptedText, keyring
from kb.db import Base, UTCDateTime
from kb.delivery.citations import Citation
from kb.delivery.openurl import OpenUrlResult
from kb.delivery.states import Genre
from kb.settings import get_settings

_PURPOSE = "delivery-draft"


class RequestDraftRecord(Base):
    __tablename__ = "delivery_drafts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, names nothing
    citation: Mapped[dict[str, Any]] = mapped_column(JSON)
    missing: Mapped[list[str]] = mapped_column(
        JSON, default=list
    )  # field names (texts.FIELD_NAMES)
    problems: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    openurl_version: Mapped[str] = mapped_column(String(8))
    referrer: Mapped[str | None] = mapped_column(String(300))
    raw: Mapped[str] = mapped_column(EncryptedText)  # the link as sent
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class DraftRefused(Exception):
    def __init__(self, code: str) -> None:  # "malformed", "bad_signature", "expired", "gone"
        self.code = code
        super().__init__(f"draft refused: {code}")


def _signature(draft_id: str, expires: int) -> str:
    return keyring().blind_index(f"{draft_id}.{expires}", _PURPOSE)[:32]


def token_for(draft: RequestDraftRecord) -> str:
    expires = int(draft.expires_at.timestamp())
    return f"{draft.id}.{expires}.{_signature(draft.id, expires)}"


def save_draft(
    session: Session, result: OpenUrlResult, raw: str, *, language: str, now: datetime
) -> RequestDraftRecord:
    """Keep what an OpenURL named for the chat to pick up."""
    citation = asdict(result.citation)
    citation["genre"] = result.citation.genre.value
    draft = RequestDraftRecord(
        id=secrets.token_urlsafe(18),
        citation=citation,
        missing=result.citation.missing(),
        problems=[
            {
                "code": p.code,
                "field": p.field,
                "value": p.value,
                "zh": p.text("zh"),
                "en": p.text("en"),
            }
            for p in result.problems
        ],
        openurl_version=result.version,
        referrer=(result.referrer or "")[:300] or None,
        raw=raw,
        language=language,
        created_at=now,
        expires_at=now + timedelta(hours=get_settings().delivery_draft_hours),
    )
    session.add(draft)
    session.flush()
    return draft


def load_draft(session: Session, token: str, now: datetime) -> RequestDraftRecord:
    parts = token.strip().split(".")
    if len(parts) != 3 or not parts[1].isdecimal():
        raise DraftRefused("malformed")
    draft_id, expires_text, signature = parts
    if not hmac.compare_digest(_signature(draft_id, int(expires_text)), signature):
        raise DraftRefused("bad_signature")
    if datetime.fromtimestamp(int(expires_text), UTC) <= now:
        raise DraftRefused("expired")
    draft = session.get(RequestDraftRecord, draft_id)
    if draft is None:
        raise DraftRefused("gone")
    return draft


def citation_of(draft: RequestDraftRecord) -> Citation:
    values = dict(draft.citation)
    values["genre"] = Genre(values.get("genre", "unknown"))
    return Citation(**values)


def purge_expired(session: Session, now: datetime) -> int:
    """Delete drafts past their time (the scheduler calls this)."""
    result = session.execute(delete(RequestDraftRecord).where(RequestDraftRecord.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
