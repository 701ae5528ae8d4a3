"""The staff access log for admins (/console/audit): who looked at or changed what,
when and why, newest first, filtered by person, action, ticket and dates. Read-only:
the log is append-only in the database; reading it is itself a logged access."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from bot.console import auth
from bot.console.auth import Librarian
from bot.console.pages import _state, render
from kb.staff import audit
from kb.staff.models import StaffMember

router = APIRouter(prefix="/console")
LIMIT = 500


def _day(value: str) -> datetime | None:
    """A YYYY-MM-DD filter as the start of that day (UTC); anything else means no limit."""
    try:
        return datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time(), UTC)
    except ValueError:
        return None


def _rows(session: Session, who: Librarian, filters: dict[str, str]) -> list[dict[str, Any]]:
    since, until = _day(filters["since"]), _day(filters["until"])
    found = audit.search(
        session,
        username=filters["username"] or None,
        action=filters["action"] or None,
        ticket=filters["ticket"] or None,
        since=since,
        until=until + timedelta(days=1) if until else None,
        limit=LIMIT,
    )
    staff = session.get(StaffMember, who.id)
    assert staff is not None
    shown = " ".join(f"{k}={v}" for k, v in filters.items() if v) or "all"
    audit.record(session, staff, "console.audit", outcome=200, detail=f"{shown}: {len(found)}")
    return [
        {
            "at": row.at.isoformat(timespec="seconds"),
            "who": row.staff.username,
            "action": row.action,
            "ticket": row.ticket or "",
            "outcome": row.outcome,
            "detail": row.detail or "",
        }
        for row in found
    ]


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(
    who: Annotated[Librarian, Depends(auth.admin)],
    request: Request,
    username: str = "",
    action: str = "",
    ticket: str = "",
    since: str = "",
    until: str = "",
) -> HTMLResponse:
    filters = {
        "username": username.strip()[:64],
        "action": action.strip()[:40],
        "ticket": ticket.strip()[:20],
        "since": since.strip(),
        "until": until.strip(),
    }
    rows = await _state(request).db.run(_rows, who, filters)
    return render(request, "audit.html", who, rows=rows, filters=filters, limit=LIMIT)
