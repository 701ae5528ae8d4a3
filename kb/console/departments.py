"""Department queues: the departments the console knows (those of console accounts),
how many of each are online, and who may claim a chat waiting for a department.

The rule: a chat in a department's queue is reserved for that department's
librarians while at least one of them is online; when none is, anyone may claim it,
so a chat never waits for a department that is not there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.console.availability import online_librarians, same_department
from kb.console.models import LiveChat
from kb.settings import Settings
from kb.staff.models import StaffMember


@dataclass(frozen=True)
class Department:
    name: str
    members: int  # console accounts in it
    online: int  # of them online now


def _spellings(session: Session) -> list[str]:
    """The department of every active console account, as spelled there."""
    return [
        d
        for d in session.scalars(
            select(StaffMember.department)
            .where(
                StaffMember.active.is_(True),
                StaffMember.password_hash.is_not(None),
                StaffMember.department.is_not(None),
            )
            .order_by(StaffMember.id)
        )
        if d and d.strip()
    ]


def find(session: Session, name: str | None) -> str | None:
    """The department called ``name`` (any case or spacing) as the first account spells
    it, or None when no console account belongs to it."""
    return next((d for d in _spellings(session) if same_department(d, name)), None)


def departments(
    session: Session, settings: Settings, now: datetime | None = None
) -> list[Department]:
    """Every department with its console accounts and how many are online, by name."""
    names: list[str] = []
    members: dict[str, int] = {}
    for spelling in _spellings(session):
        name = next((n for n in names if same_department(n, spelling)), spelling)
        if name not in members:
            names.append(name)
        members[name] = members.get(name, 0) + 1
    return [
        Department(n, members[n], online_librarians(session, settings, now, n))
        for n in sorted(names, key=str.casefold)
    ]


def reserved_for(
    session: Session, settings: Settings, chat: LiveChat, now: datetime | None = None
) -> str | None:
    """The department the queued chat is kept for now (one of its librarians is online)."""
    if chat.department and online_librarians(session, settings, now, chat.department) > 0:
        return chat.department
    return None


def may_claim(
    session: Session,
    settings: Settings,
    chat: LiveChat,
    staff: StaffMember,
    now: datetime | None = None,
) -> bool:
    reserved = reserved_for(session, settings, chat, now)
    return reserved is None or same_department(staff.department, reserved)
