"""Service hours as set in the console: ``REFDESK_CONSOLE_SERVICE_HOURS`` is the default
week; a weekday set in the console replaces that day's hours (or closes it), and a
holiday closes the desk for the day. Times are in ``REFDESK_CONSOLE_TIMEZONE``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kb.console.availability import DAYS, HoursError, parse_hours
from kb.console.models import ServiceHoursOverride
from kb.db import utcnow
from kb.settings import Settings

Spans = list[tuple[int, int]]
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
CLOSED_WORDS = {"closed", "休息", "闭馆", "关闭"}


def parse_spans(text: str) -> Spans:
    """ "08:00-12:00, 13:00-21:00" -> [(480, 720), (780, 1260)]; "closed" -> []."""
    text = (text or "").strip()
    if text.casefold() in CLOSED_WORDS:
        return []
    spans: Spans = []
    for part in re.split(r"[,，;；]", text):
        if not part.strip():
            continue
        m = _SPAN.match(part)
        if not m:
            raise HoursError(f"hours {part.strip()!r}: expected e.g. '08:00-21:00' or 'closed'")
        start = int(m[1]) * 60 + int(m[2])
        end = int(m[3]) * 60 + int(m[4])
        if int(m[2]) > 59 or int(m[4]) > 59 or not 0 <= start < end <= 24 * 60:
            raise HoursError(f"hours {part.strip()!r}: times must run forwards within a day")
        spans.append((start, end))
    if not spans:
        raise HoursError("hours: give e.g. '08:00-21:00', several separated by commas, or 'closed'")
    return sorted(spans)


def format_spans(spans: Spans) -> str:
    return ", ".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in spans)


@dataclass(frozen=True)
class Day:
    weekday: int
    name: str  # "mon" … "sun"
    spans: Spans
    overridden: bool  # set in the console, not the setting
    updated_by: str | None


def week(session: Session, settings: Settings) -> list[Day]:
    """The seven weekdays as they are in force: console overrides over the setting."""
    default = parse_hours(settings.console_service_hours)
    rows = {
        r.weekday: r
        for r in session.scalars(
            select(ServiceHoursOverride).where(ServiceHoursOverride.weekday.is_not(None))
        )
    }
    days = []
    for i, name in enumerate(DAYS):
        row = rows.get(i)
        spans = parse_spans(row.spans or "closed") if row else sorted(default.get(i, []))
        days.append(Day(i, name, spans, row is not None, row.updated_by if row else None))
    return days


def set_weekday(session: Session, weekday: int, hours: str | None, editor: str) -> None:
    """Set a weekday's hours ("closed" closes it); empty or None: back to the setting."""
    if not 0 <= weekday <= 6:
        raise HoursError("weekday must be 0 (Monday) to 6 (Sunday)")
    row = session.scalar(
        select(ServiceHoursOverride).where(ServiceHoursOverride.weekday == weekday)
    )
    if not (hours or "").strip():
        if row is not None:
            session.delete(row)
        session.flush()
        return
    spans = format_spans(parse_spans(hours or ""))
    if row is None:
        row = ServiceHoursOverride(weekday=weekday)
        session.add(row)
    row.spans, row.updated_by, row.updated_at = spans, editor, utcnow()
    session.flush()


def holidays(session: Session, since: date | None = None) -> list[ServiceHoursOverride]:
    query = select(ServiceHoursOverride).where(ServiceHoursOverride.day.is_not(None))
    if since is not None:
        query = query.where(ServiceHoursOverride.day >= since)
    return list(session.scalars(query.order_by(ServiceHoursOverride.day)))


def add_holiday(session: Session, day: date, note: str | None, editor: str) -> ServiceHoursOverride:
    row = session.scalar(select(ServiceHoursOverride).where(ServiceHoursOverride.day == day))
    if row is None:
        row = ServiceHoursOverride(day=day, spans="")
        session.add(row)
    row.note = (note or "").strip()[:200] or None
    row.updated_by, row.updated_at = editor, utcnow()
    session.flush()
    return row


def remove_holiday(session: Session, day: date) -> bool:
    gone = session.execute(delete(ServiceHoursOverride).where(ServiceHoursOverride.day == day))
    return bool(gone.rowcount)  # type: ignore[attr-defined]


def spans_on(session: Session, settings: Settings, local_day: date) -> Spans:
    """The hours of one local day: closed on a holiday, else the weekday's."""
    if session.scalar(select(ServiceHoursOverride.id).where(ServiceHoursOverride.day == local_day)):
        return []
    return week(session, settings)[local_day.weekday()].spans


def open_now(session: Session, settings: Settings, now: datetime | None = None) -> bool:
    local = (now or utcnow()).astimezone(ZoneInfo(settings.console_timezone))
    minute = local.hour * 60 + local.minute
    return any(s <= minute < e for s, e in spans_on(session, settings, local.date()))
