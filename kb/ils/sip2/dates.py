"""SIP2 date-times: ``YYYYMMDDZZZZHHMMSS``.

ZZZZ is four blanks for the ILS's local time, or a military time-zone letter in
the last position (``Z`` = UTC). Due dates (AH) are free text in the spec and
ILSes differ (Evergreen can send ``YYYY-MM-DD HH:MM:SS``), so parsing also takes
ISO forms and returns ``None`` for anything else; callers keep the raw text.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo

_SIP = re.compile(r"^(\d{8})([ A-Z]{4})(\d{6})$")


def _military(letter: str) -> tzinfo | None:
    """Offset of a military time-zone letter (J is local time, so it has none)."""
    if letter == "Z":
        return UTC
    if "A" <= letter <= "I":
        hours = ord(letter) - ord("A") + 1
    elif "K" <= letter <= "M":
        hours = ord(letter) - ord("K") + 10
    elif "N" <= letter <= "Y":
        hours = -(ord(letter) - ord("N") + 1)
    else:
        return None
    return timezone(timedelta(hours=hours))


def format_sip_datetime(moment: datetime, local: tzinfo) -> str:
    """A transaction date in the ILS's local time (blank zone), as the spec prefers."""
    return moment.astimezone(local).strftime("%Y%m%d    %H%M%S")


def parse_sip_datetime(text: str, local: tzinfo) -> datetime | None:
    """An aware datetime from a SIP2 or ISO date-time, or ``None`` if it is neither."""
    value = text.strip("\r\n")
    match = _SIP.match(value)
    if match:
        day, zone, clock = match.groups()
        letter = zone.strip()
        tz = local if not letter or letter == "J" else _military(letter[-1])
        if tz is None:
            return None
        try:
            naive = datetime.strptime(day + clock, "%Y%m%d%H%M%S")
        except ValueError:
            return None
        return naive.replace(tzinfo=tz)
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=local)
