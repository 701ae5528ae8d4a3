"""The subject librarian directory (学科馆员)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kb.db import Base, UTCDateTime, utcnow


class SubjectLibrarian(Base):
    __tablename__ = "subject_librarians"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # e.g. "chemistry-zhang"
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    # Fields covered, as patrons name them in each language ("化学", "chemistry").
    subjects_zh: Mapped[list[str]] = mapped_column(JSON, default=list)
    subjects_en: Mapped[list[str]] = mapped_column(JSON, default=list)
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(64))
    office_zh: Mapped[str | None] = mapped_column(Text)
    office_en: Mapped[str | None] = mapped_column(Text)
    hours_zh: Mapped[str | None] = mapped_column(Text)
    hours_en: Mapped[str | None] = mapped_column(Text)
    # The staff department whose librarians take this field's live chats (as admins
    # spell it on staff accounts); None: the general queue.
    department: Mapped[str | None] = mapped_column(String(100))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)  # ["zh", "en"]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(100))
