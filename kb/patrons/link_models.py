"""Tables behind linking one patron's channels (see kb/patrons/linking.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kb.db import Base, UTCDateTime, utcnow


class LinkCode(Base):
    """A short one-time code a patron carries from one channel to another.

    Only a keyed hash of the code is stored: a database dump does not reveal
    live codes, and without the index key 10^6 candidates cannot be tried offline.
    """

    __tablename__ = "patron_link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), index=True)
    # The channel the code was asked for in (the other channel is the one linked).
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Replaced by a newer code, or burned by too many wrong guesses anywhere.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Wrong codes typed (by anyone) while this one was live: every wrong guess is a
    # guess at every live code, so each code has a budget (link_code_guess_budget).
    failed_guesses: Mapped[int] = mapped_column(Integer, default=0)


class LinkFailure(Base):
    """A wrong code typed in a chat; limits guessing per chat."""

    __tablename__ = "patron_link_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(
        ForeignKey("channel_identities.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
