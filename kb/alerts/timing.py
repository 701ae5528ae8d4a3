"""When an alert may go out: instant (unless in quiet hours), daily or weekly digests at
the subscriber's hour in the subscriber's time zone, quiet hours held until they end."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kb.alerts.models import Frequency

WEEKLY_DAY = 0  # Monday


def zone(name: str | None, default: str = "Asia/Shanghai") -> ZoneInfo:
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


def valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def parse_hhmm(value: str | None) -> time | None:
    if not value:
        return None
    hours, _, minutes = value.strip().partition(":")
    try:
        return time(int(hours), int(minutes or 0))
    except ValueError as exc:
        raise ValueError(f"not a time of day (HH:MM): {value!r}") from exc


def _at(day: date, at: time, tz: ZoneInfo) -> datetime:
    # Wall-clock time in the zone; a time skipped by a DST change lands just after it.
    local = datetime.combine(day, at, tzinfo=tz)
    return local.astimezone(UTC).astimezone(tz)


def quiet_until(now: datetime, tz: ZoneInfo, start: str | None, end: str | None) -> datetime | None:
    """The end of the quiet window ``now`` falls in (UTC), or None when not quiet."""
    begin, finish = parse_hhmm(start), parse_hhmm(end)
    if begin is None or finish is None or begin == finish:
        return None
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    if begin < finish:  # e.g. 13:00-14:00
        if begin <= clock < finish:
            return _at(local.date(), finish, tz).astimezone(UTC)
        return None
    # Spans midnight, e.g. 22:00-07:00.
    if clock >= begin:
        return _at(local.date() + timedelta(days=1), finish, tz).astimezone(UTC)
    if clock < finish:
        return _at(local.date(), finish, tz).astimezone(UTC)
    return None


def next_digest(now: datetime, tz: ZoneInfo, frequency: Frequency, hour: int) -> datetime:
    """The next daily (or Monday, weekly) send time at ``hour`` local, after ``now``."""
    local = now.astimezone(tz)
    day = local.date()
    at = time(hour % 24)
    while True:
        candidate = _at(day, at, tz)
        if candidate > local and (frequency != Frequency.WEEKLY or day.weekday() == WEEKLY_DAY):
            return candidate.astimezone(UTC)
        day += timedelta(days=1)


def due_time(
    now: datetime,
    *,
    frequency: Frequency,
    timezone: str | None,
    quiet_start: str | None,
    quiet_end: str | None,
    best_hour: int | None,
    default_hour: int = 8,
    default_zone: str = "Asia/Shanghai",
) -> datetime:
    """When a delivery matched at ``now`` should go out."""
    tz = zone(timezone, default_zone)
    at = (
        now
        if frequency == Frequency.INSTANT
        else next_digest(now, tz, frequency, default_hour if best_hour is None else best_hour)
    )
    held = quiet_until(at, tz, quiet_start, quiet_end)
    return held or at


def local_hour(moment: datetime, timezone: str | None) -> int:
    return moment.astimezone(zone(timezone)).hour
