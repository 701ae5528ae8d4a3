"""Keeping PINs and passwords out of logs, exceptions and debug dumps.

Three layers: secrets travel as :class:`Secret` (whose ``repr``/``str`` show
``***``); frames are only ever logged through :func:`redact_text`, which masks
the AD (patron PIN), CO (login password) and AC (terminal password) fields; and
every ``kb.ils`` logger carries :class:`RedactingFilter`, which masks those
fields and the value of any live :class:`Secret` in whatever text a record or
its traceback holds.
"""

from __future__ import annotations

import logging
import re
import threading
import weakref

from kb.ils.sip2.spec import SECRET_FIELDS

MASK = "***"
# Shorter values would shred ordinary log text (timestamps, counts) for no gain.
_MIN_SCRUB_LENGTH = 4

_FIELD = re.compile(r"(\|)(" + "|".join(sorted(SECRET_FIELDS)) + r")([^|\r\n]*)")


class Secret:
    """A PIN or password: usable by the code that needs it, invisible to everything else."""

    __slots__ = ("_value", "__weakref__")

    def __init__(self, value: str) -> None:
        self._value = value
        if len(value) >= _MIN_SCRUB_LENGTH:
            with _live_lock:
                _live.add(self)

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")


_live: weakref.WeakSet[Secret] = weakref.WeakSet()
_live_lock = threading.Lock()


def redact_text(text: str) -> str:
    """``text`` with secret SIP2 fields and the values of live secrets masked."""
    text = _FIELD.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    with _live_lock:
        values = [s.reveal() for s in _live]
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message and traceback text with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


_FILTER = RedactingFilter()


def get_logger(name: str) -> logging.Logger:
    """A logger for ILS code, with redaction installed."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger
