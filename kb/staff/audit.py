"""The staff access log: every staff API call, who made it, what, on which ticket, when.
It is append-only: database triggers (migration staff_0002) refuse updates and deletes.

Successful calls are logged in the same transaction as what they did (no action
without its row); refused calls (403, 404, 409 ...) are logged on their own,
since the action's transaction is rolled back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from kb.db import Base, UTCDateTime, utcnow
from kb.staff.models import StaffMember


class StaffAccess(Base):
    __tablename__ = "staff_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_members.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(40))  # e.g. "delivery.accept"
    ticket: Mapped[str | None] = mapped_column(String(20), index=True)
    outcome: Mapped[int] = mapped_column(Integer)  # the HTTP status answered
    # What else matters later: "contact_viewed", or why it was refused.
    detail: Mapped[str | None] = mapped_column(String(300))

    staff: Mapped[StaffMember] = relationship()


def record(
    session: Session,
    staff: StaffMember,
    action: str,
    *,
    outcome: int,
    ticket: str | None = None,
    detail: str | None = None,
    at: datetime | None = None,
) -> StaffAccess:
    row = StaffAccess(
        staff_id=staff.id,
        at=at or utcnow(),
        action=action,
        ticket=ticket,
        outcome=outcome,
        detail=detail[:300] if detail else None,
    )
    session.add(row)
    session.flush()
    return row


def accesses(
    session: Session, *, ticket: str | None = None, staff_id: int | None = None
) -> list[StaffAccess]:
    query = select(StaffAccess).order_by(StaffAccess.id)
    if ticket is not None:
        query = query.where(StaffAccess.ticket == ticket)
    if staff_id is not None:
        query = query.where(StaffAccess.staff_id == staff_id)
    return list(session.scalars(query))


def search(
    session: Session,
    *,
    username: str | None = None,
    action: str | None = None,
    ticket: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 500,
) -> list[StaffAccess]:
    """Newest first, for admins reading the log: ``action`` matches as a prefix
    (``delivery.`` finds every delivery action)."""
    query = select(StaffAccess).join(StaffMember).order_by(StaffAccess.id.desc())
    if username:
        query = query.where(StaffMember.username == username)
    if action:
        query = query.where(StaffAccess.action.startswith(action, autoescape=True))
    if ticket:
        query = query.where(StaffAccess.ticket == ticket)
    if since is not None:
        query = query.where(StaffAccess.at >= since)
    if until is not None:
        query = query.where(StaffAccess.at < until)
    return list(session.scalars(query.limit(limit)))
