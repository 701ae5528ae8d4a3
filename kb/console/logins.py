"""Console sign-in: password check with lockout, session tokens (stored hashed),
one CSRF token per session. Every attempt is in the staff access log."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kb.console.models import ConsoleSession
from kb.console.passwords import hash_password, verify_password
from kb.db import utcnow
from kb.settings import Settings
from kb.staff import audit
from kb.staff.models import StaffMember


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_member(session: Session, username: str) -> StaffMember | None:
    return session.scalar(
        select(StaffMember).where(StaffMember.username == username.strip().lower())
    )


def set_password(session: Session, username: str, password: str) -> StaffMember:
    member = find_member(session, username)
    if member is None:
        raise LookupError(f"no staff member {username!r}")
    member.password_hash = hash_password(password)
    member.failed_logins, member.locked_until = 0, None
    # A new password signs every console of theirs out.
    session.execute(delete(ConsoleSession).where(ConsoleSession.staff_id == member.id))
    session.flush()
    return member


@dataclass(frozen=True)
class LoginResult:
    member: StaffMember | None
    problem: str | None = None  # "wrong" (or unknown user), "locked"
    token: str | None = None  # the cookie value, shown only now
    locked_until: datetime | None = None


def login(
    session: Session, settings: Settings, username: str, password: str, now: datetime | None = None
) -> LoginResult:
    now = now or utcnow()
    member = find_member(session, username)
    if member is None or not member.active:
        verify_password(password, None)  # same cost as a real check
        return LoginResult(None, "wrong")
    if member.locked_until is not None and member.locked_until > now:
        audit.record(session, member, "console.login", outcome=423, detail="locked")
        return LoginResult(None, "locked", locked_until=member.locked_until)
    if not verify_password(password, member.password_hash):
        member.failed_logins += 1
        detail = f"wrong password ({member.failed_logins})"
        if member.failed_logins >= settings.console_max_failures:
            member.locked_until = now + timedelta(minutes=settings.console_lockout_minutes)
            member.failed_logins = 0
            detail += ", locked"
        audit.record(session, member, "console.login", outcome=401, detail=detail)
        if member.locked_until is not None and member.locked_until > now:
            return LoginResult(None, "locked", locked_until=member.locked_until)
        return LoginResult(None, "wrong")
    member.failed_logins, member.locked_until = 0, None
    token = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(
            token_hash=_digest(token),
            staff_id=member.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(hours=settings.console_session_hours),
        )
    )
    audit.record(session, member, "console.login", outcome=200)
    session.flush()
    return LoginResult(member, token=token)


def session_for(session: Session, token: str, now: datetime | None = None) -> ConsoleSession | None:
    if not token:
        return None
    row = session.scalar(select(ConsoleSession).where(ConsoleSession.token_hash == _digest(token)))
    if row is None or row.expires_at <= (now or utcnow()) or not row.staff.active:
        return None
    return row


def logout(session: Session, token: str) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == _digest(token)))
