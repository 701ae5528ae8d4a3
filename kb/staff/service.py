"""Adding, listing, revoking and authenticating staff members (the caller commits)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.catalog.models import Library
from kb.db import utcnow
from kb.staff import keys
from kb.staff.models import StaffMember, StaffRole

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class StaffError(ValueError):
    """A staff change that cannot be made; the text says why."""


@dataclass(frozen=True)
class Added:
    member: StaffMember
    token: str  # shown once, never stored


def add_staff(
    session: Session,
    username: str,
    *,
    library_code: str | None,
    role: StaffRole = StaffRole.LIBRARIAN,
    display_name: str | None = None,
    now: datetime | None = None,
) -> Added:
    """A new staff member and their API key (``library_code`` None: the delivery centre)."""
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise StaffError(
            f"username {username!r}: use 2-64 lowercase letters, digits, '.', '_' or '-'"
        )
    if session.scalar(select(StaffMember).where(StaffMember.username == username)):
        raise StaffError(f"there is already a staff member {username!r}")
    if library_code is not None and session.get(Library, library_code) is None:
        raise StaffError(f"no member library with the code {library_code!r}")
    key = keys.new_key()
    member = StaffMember(
        username=username,
        display_name=(display_name or username).strip(),
        library_code=library_code,
        role=StaffRole(role),
        key_id=key.key_id,
        key_hash=keys.hash_secret(key.secret),
        created_at=now or utcnow(),
        active=True,
    )
    session.add(member)
    session.flush()
    return Added(member, key.token)


def list_staff(session: Session, *, include_revoked: bool = True) -> list[StaffMember]:
    query = select(StaffMember).order_by(StaffMember.username)
    if not include_revoked:
        query = query.where(StaffMember.active.is_(True))
    return list(session.scalars(query))


def revoke(session: Session, username: str, now: datetime | None = None) -> StaffMember:
    """Switch a member's key off for good (a new key means a new ``staff add``)."""
    member = session.scalar(
        select(StaffMember).where(StaffMember.username == username.strip().lower())
    )
    if member is None:
        raise StaffError(f"no staff member {username!r}")
    if member.active:
        member.active, member.revoked_at = False, now or utcnow()
        session.flush()
    return member


def set_library(session: Session, username: str, library_code: str | None) -> StaffMember:
    """Move a member to another member library (``None``: the delivery centre).

    What they see and act on in the delivery API and console follows at once.
    """
    member = session.scalar(
        select(StaffMember).where(StaffMember.username == username.strip().lower())
    )
    if member is None:
        raise StaffError(f"no staff member {username!r}")
    if library_code is not None and session.get(Library, library_code) is None:
        raise StaffError(f"no member library with the code {library_code!r}")
    member.library_code = library_code
    session.flush()
    return member


@dataclass(frozen=True)
class AuthResult:
    member: StaffMember | None
    problem: str | None = None  # "malformed", "unknown", "revoked"


def authenticate(session: Session, token: str) -> AuthResult:
    parts = keys.split_token(token)
    if parts is None:
        return AuthResult(None, "malformed")
    key_id, secret = parts
    member = session.scalar(select(StaffMember).where(StaffMember.key_id == key_id))
    if member is None or not keys.verify_secret(secret, member.key_hash):
        return AuthResult(None, "unknown")
    if not member.active:
        # The key was real: say so, and the caller can audit the attempt.
        return AuthResult(member, "revoked")
    return AuthResult(member)
