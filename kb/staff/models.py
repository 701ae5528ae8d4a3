"""The staff member table."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kb.db import Base, UTCDateTime, str_enum, utcnow


class StaffRole(enum.StrEnum):
    LIBRARIAN = "librarian"  # works requests (of their library, or all at the centre)
    ADMIN = "admin"  # also manages staff (the console's staff pages)


class StaffMember(Base):
    """A librarian of a member library, or of the delivery centre (``library_code`` NULL)."""

    __tablename__ = "staff_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    library_code: Mapped[str | None] = mapped_column(ForeignKey("libraries.code"), index=True)
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole), default=StaffRole.LIBRARIAN)
    # The librarian's department, as the library names it ("参考咨询部", "Reference").
    department: Mapped[str | None] = mapped_column(String(100))
    # The key's public half: finds the row without trying every hash.
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    # "scrypt$n$r$p$salt$hash" of the secret half; the key itself is never stored.
    key_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # --- the librarian console (kb.console) ---
    # "argon2id$..." of the console password; None: cannot sign in to the console.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # online / away / offline, and when a console of theirs was last heard from.
    console_status: Mapped[str] = mapped_column(String(16), default="offline")
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def at_centre(self) -> bool:
        """Delivery-centre staff act on every request; others only on their library's."""
        return self.library_code is None
