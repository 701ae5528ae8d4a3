"""What an admin does to staff accounts from the console: create a librarian (with a
console password), change the role, department or name, reset the password (which
signs that person's consoles out) and deactivate the account (their API key and
console sign-in stop working; the row and its audit trail stay)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from kb.console.logins import find_member, set_password
from kb.console.models import ConsoleSession
from kb.console.passwords import PasswordError, hash_password
from kb.staff.models import StaffMember, StaffRole
from kb.staff.service import StaffError, add_staff, revoke

MAX_DEPARTMENT = 100


def _member(session: Session, username: str) -> StaffMember:
    member = find_member(session, username)
    if member is None:
        raise StaffError(f"no staff member {username!r}")
    return member


def _role(role: str) -> StaffRole:
    try:
        return StaffRole(role)
    except ValueError:
        raise StaffError("role must be librarian or admin") from None


def _department(department: str | None) -> str | None:
    department = (department or "").strip()
    if len(department) > MAX_DEPARTMENT:
        raise StaffError(f"department: at most {MAX_DEPARTMENT} characters")
    return department or None


def create_librarian(
    session: Session,
    username: str,
    *,
    display_name: str,
    role: str,
    department: str | None,
    password: str,
) -> StaffMember:
    """A console account (delivery-centre staff, like ``refdesk staff add``)."""
    try:
        hash_password(password)  # check the password before anything is written
    except PasswordError as exc:
        raise StaffError(f"password: {exc}") from None
    member = add_staff(
        session,
        username,
        library_code=None,
        role=_role(role),
        display_name=display_name.strip() or None,
    ).member
    member.department = _department(department)
    set_password(session, member.username, password)
    return member


def update_member(
    session: Session,
    username: str,
    *,
    acting: str,
    role: str,
    department: str | None,
    display_name: str | None = None,
) -> StaffMember:
    member = _member(session, username)
    new_role = _role(role)
    if member.username == acting and new_role != StaffRole.ADMIN:
        raise StaffError("role: you cannot take the admin role from yourself")
    member.role = new_role
    member.department = _department(department)
    if display_name is not None and display_name.strip():
        member.display_name = display_name.strip()[:200]
    session.flush()
    return member


def reset_password(session: Session, username: str, password: str) -> StaffMember:
    member = _member(session, username)
    if not member.active:
        raise StaffError(f"{member.username} is deactivated")
    try:
        return set_password(session, member.username, password)
    except PasswordError as exc:
        raise StaffError(f"password: {exc}") from None


def deactivate(session: Session, username: str, *, acting: str) -> StaffMember:
    member = _member(session, username)
    if member.username == acting:
        raise StaffError("you cannot deactivate your own account")
    revoke(session, member.username)
    member.console_status = "offline"
    session.execute(delete(ConsoleSession).where(ConsoleSession.staff_id == member.id))
    session.flush()
    return member
