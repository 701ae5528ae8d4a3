"""Who covers which field: look-up for the chat, editing for admins, the bundled directory."""

from __future__ import annotations

import re
import unicodedata
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.db import utcnow
from kb.subjects.models import SubjectLibrarian

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_LANGS = {"zh", "en"}
# "department": the staff department whose librarians take this field's live chats.
TEXT_FIELDS = ("name_zh", "name_en", "email", "phone", "office_zh", "office_en", "hours_zh",
               "hours_en", "department")  # fmt: skip


MAX_DEPARTMENT = 100  # as on staff accounts


class SubjectError(ValueError):
    """A directory entry that cannot be saved; the message names the field."""


class LibrarianNotFound(LookupError):
    pass


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()


def active_librarians(session: Session) -> list[SubjectLibrarian]:
    return list(
        session.scalars(
            select(SubjectLibrarian)
            .where(SubjectLibrarian.active.is_(True))
            .order_by(SubjectLibrarian.key)
        )
    )


def _score(term: str, wanted: str) -> int:
    """How well a covered field matches what the patron named (0 = not at all)."""
    t = _fold(term)
    if not t:
        return 0
    if t == wanted:
        return 3
    if t in wanted:  # "有机化学" names 化学; "economics of health" names economics
        return 2
    if len(wanted) >= 2 and wanted in t:  # "econ" inside "economics"
        return 1
    return 0


def librarians_for(session: Session, field_name: str) -> list[SubjectLibrarian]:
    """Librarians covering ``field_name``, best match first."""
    wanted = _fold(field_name)
    if not wanted:
        return []
    scored = []
    for lib in active_librarians(session):
        best = max((_score(t, wanted) for t in [*lib.subjects_zh, *lib.subjects_en]), default=0)
        if best:
            scored.append((-best, lib.key, lib))
    return [lib for _, _, lib in sorted(scored, key=lambda x: (x[0], x[1]))]


def _strings(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SubjectError(f"{name} must be a list of strings")
    return [v.strip() for v in value if v.strip()]


def save_librarian(
    session: Session, data: dict[str, Any], *, editor: str | None, key: str | None = None
) -> SubjectLibrarian:
    """Create (``key`` None) or update an entry from a dict of fields; validates everything."""
    row: SubjectLibrarian | None = None
    if key is not None:
        row = session.scalar(select(SubjectLibrarian).where(SubjectLibrarian.key == key))
        if row is None:
            raise LibrarianNotFound(f"no subject librarian {key!r}")
    else:
        new_key = str(data.get("key") or "")
        if not _KEY.match(new_key):
            raise SubjectError("key must be 1-64 lowercase letters, digits, '-' or '_'")
        if session.scalar(select(SubjectLibrarian.id).where(SubjectLibrarian.key == new_key)):
            raise SubjectError(f"key {new_key!r} is already used")
        row = SubjectLibrarian(key=new_key)
    for name in TEXT_FIELDS:
        if name in data:
            value = data[name]
            if value is not None and not isinstance(value, str):
                raise SubjectError(f"{name} must be text")
            setattr(row, name, (value or "").strip() or None)
    for name in ("subjects_zh", "subjects_en"):
        if name in data:
            setattr(row, name, _strings(data[name], name))
    if "languages" in data:
        langs = _strings(data["languages"], "languages")
        if not set(langs) <= _LANGS:
            raise SubjectError("languages may only contain 'zh' and 'en'")
        row.languages = langs
    if "active" in data:
        if not isinstance(data["active"], bool):
            raise SubjectError("active must be true or false")
        row.active = data["active"]
    if not row.name_zh or not row.name_en:
        raise SubjectError("name_zh and name_en must not be empty")
    if not (row.subjects_zh or row.subjects_en):
        raise SubjectError("give at least one subject (subjects_zh or subjects_en)")
    if not (row.email or row.phone):
        raise SubjectError("give a contact: email or phone")
    if row.department and len(row.department) > MAX_DEPARTMENT:
        raise SubjectError(f"department: at most {MAX_DEPARTMENT} characters")
    row.updated_by = editor
    row.updated_at = utcnow()
    if row.id is None:
        session.add(row)
    session.flush()
    return row


def delete_librarian(session: Session, key: str) -> None:
    row = session.scalar(select(SubjectLibrarian).where(SubjectLibrarian.key == key))
    if row is None:
        raise LibrarianNotFound(f"no subject librarian {key!r}")
    session.delete(row)
    session.flush()


def load_bundled(session: Session) -> int:
    """Load kb/data/subject_librarians.yml into an empty directory; returns how many."""
    if session.scalar(select(SubjectLibrarian.id).limit(1)) is not None:
        return 0
    text = resources.files("kb.data").joinpath("subject_librarians.yml").read_text("utf-8")
    entries = yaml.safe_load(text)["subject_librarians"]
    for entry in entries:
        save_librarian(session, entry, editor="bundled")
    return len(entries)


def as_dict(row: SubjectLibrarian) -> dict[str, Any]:
    return {
        "key": row.key,
        **{name: getattr(row, name) for name in TEXT_FIELDS},
        "subjects_zh": row.subjects_zh,
        "subjects_en": row.subjects_en,
        "languages": row.languages,
        "active": row.active,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
        "updated_by": row.updated_by,
    }
