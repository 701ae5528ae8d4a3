"""Is a librarian on duty? Someone's console says "online" (and was heard from
recently), and now is inside the service hours."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.db import utcnow
from kb.settings import Settings
from kb.staff.models import StaffMember

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_PART = re.compile(
    r"^\s*(?P<d1>[a-z]{3})(?:\s*-\s*(?P<d2>[a-z]{3}))?\s+"
    r"(?P<h1>\d{1,2}):(?P<m1>\d{2})\s*-\s*(?P<h2>\d{1,2}):(?P<m2>\d{2})\s*$",
    re.IGNORECASE,
)


class HoursError(ValueError):
    pass


def parse_hours(spec: str) -> dict[int, list[tuple[int, int]]]:
    """'Mon-Fri 08:00-21:00; Sat 09:00-17:00' -> {weekday: [(start_min, end_min)]}."""
    hours: dict[int, list[tuple[int, int]]] = {}
    for part in filter(str.strip, spec.split(";")):
        m = _PART.match(part)
        if not m:
            raise HoursError(f"service hours {part.strip()!r}: expected e.g. 'Mon-Fri 08:00-21:00'")
        d1, d2 = m["d1"].lower(), (m["d2"] or m["d1"]).lower()
        if d1 not in DAYS or d2 not in DAYS:
            raise HoursError(f"service hours {part.strip()!r}: days are Mon..Sun")
        start = int(m["h1"]) * 60 + int(m["m1"])
        end = int(m["h2"]) * 60 + int(m["m2"])
        if not 0 <= start < end <= 24 * 60:
            raise HoursError(
                f"service hours {part.strip()!r}: times must run forwards within a day"
            )
        i, j = DAYS.index(d1), DAYS.index(d2)
        for day in range(i, (j if j >= i else j + 7) + 1):
            hours.setdefault(day % 7, []).append((start, end))
    return hours


def in_service_hours(settings: Settings, now: datetime | None = None) -> bool:
    local = (now or utcnow()).astimezone(ZoneInfo(settings.console_timezone))
    minute = local.hour * 60 + local.minute
    return any(
        s <= minute < e
        for s, e in parse_hours(settings.console_service_hours).get(local.weekday(), [])
    )


def same_department(a: str | None, b: str | None) -> bool:
    """Departments are typed by admins: "Reference" and " reference " are one."""
    return bool(a and b) and _fold(a or "") == _fold(b or "")


def _fold(name: str) -> str:
    return " ".join(name.casefold().split())


def online_librarians(
    session: Session,
    settings: Settings,
    now: datetime | None = None,
    department: str | None = None,
) -> int:
    """How many librarians (of ``department``, if given) are online with a console heard
    from recently."""
    since = (now or utcnow()) - timedelta(seconds=settings.console_presence_seconds)
    departments = session.scalars(
        select(StaffMember.department).where(
            StaffMember.active.is_(True),
            StaffMember.console_status == "online",
            StaffMember.last_seen_at >= since,
        )
    ).all()
    if department is None:
        return len(departments)
    return sum(1 for d in departments if same_department(d, department))


def librarian_available(
    session: Session,
    settings: Settings,
    now: datetime | None = None,
    department: str | None = None,
) -> bool:
    """Someone (of ``department``, if given) online, inside the hours in force (the
    console's overrides and holidays over the setting: ``kb.console.service_hours``)."""
    from kb.console.service_hours import open_now

    return (
        open_now(session, settings, now)
        and online_librarians(session, settings, now, department) > 0
    )
