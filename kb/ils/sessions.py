"""Verified patron sessions, kept in this process's memory only.

A session maps an opaque random token to the card it was verified for and the
conversation ("owner") that verified it. Nothing of it is written anywhere: a
restart of the action server simply means the patron types the PIN again, and
no database or tracker dump can replay a session. The token itself may sit in
a dialogue slot; it is useless without this process's memory and the owner.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from kb.ils.sip2.spec import PatronFlag


class SessionExpired(Exception):
    """No live session for this token and conversation: ask for the PIN again."""


@dataclass
class PatronSession:
    owner: str
    barcode: str
    name: str | None
    blocks: frozenset[PatronFlag]
    started: datetime
    last_used: datetime

    def __repr__(self) -> str:  # the barcode is personal data
        return f"PatronSession(started={self.started.isoformat()})"


class PatronSessions:
    def __init__(
        self, *, idle: timedelta, max_age: timedelta, clock: Callable[[], datetime]
    ) -> None:
        self.idle = idle
        self.max_age = max_age
        self._clock = clock
        self._sessions: dict[str, PatronSession] = {}
        self._lock = threading.Lock()

    def _alive(self, session: PatronSession, now: datetime) -> bool:
        return now - session.last_used < self.idle and now - session.started < self.max_age

    def expires_at(self, session: PatronSession) -> datetime:
        return min(session.last_used + self.idle, session.started + self.max_age)

    def open(
        self, *, owner: str, barcode: str, name: str | None, blocks: frozenset[PatronFlag]
    ) -> tuple[str, PatronSession]:
        now = self._clock()
        token = secrets.token_urlsafe(32)
        session = PatronSession(owner, barcode, name, blocks, now, now)
        with self._lock:
            for stale in [t for t, s in self._sessions.items() if not self._alive(s, now)]:
                del self._sessions[stale]
            self._sessions[token] = session
        return token, session

    def use(self, token: str, *, owner: str) -> PatronSession:
        """The live session for ``token`` in this conversation; its idle time starts again."""
        now = self._clock()
        with self._lock:
            session = self._sessions.get(token)
            # A token from another conversation is treated exactly like an unknown one.
            if session is None or session.owner != owner or not self._alive(session, now):
                if session is not None and not self._alive(session, now):
                    del self._sessions[token]
                raise SessionExpired("the patron's verified session has ended; verify again")
            session.last_used = now
            return session

    def close(self, token: str, *, owner: str) -> PatronSession | None:
        with self._lock:
            session = self._sessions.get(token)
            if session is None or session.owner != owner:
                return None
            del self._sessions[token]
            return session
