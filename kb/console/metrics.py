"""Live-chat metrics: wait time, time to first librarian reply, chat duration,
handoff rate (live chats per conversation active in the period), ratings;
overall, per librarian and per day."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.console.models import ChatStatus, LiveChat
from kb.conversations.models import Conversation
from kb.db import utcnow


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def _avg(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass
class Group:
    chats: int = 0
    answered: int = 0
    waits: list[float] = field(default_factory=list)
    first_replies: list[float] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)

    def add(self, chat: LiveChat) -> None:
        self.chats += 1
        if chat.claimed_at:
            self.answered += 1
            self.waits.append((chat.claimed_at - chat.requested_at).total_seconds())
            if chat.first_reply_at:
                self.first_replies.append((chat.first_reply_at - chat.claimed_at).total_seconds())
            if chat.closed_at and chat.status == ChatStatus.CLOSED:
                self.durations.append((chat.closed_at - chat.claimed_at).total_seconds())
        if chat.rating:
            self.ratings.append(chat.rating)

    def row(self) -> dict[str, float | int | None]:
        return {
            "chats": self.chats,
            "answered": self.answered,
            "wait_avg_s": _avg(self.waits),
            "wait_p90_s": _pct(self.waits, 0.9),
            "first_reply_avg_s": _avg(self.first_replies),
            "duration_avg_s": _avg(self.durations),
            "rating_avg": _avg([float(r) for r in self.ratings]),
            "ratings": len(self.ratings),
        }


@dataclass
class Report:
    since: datetime
    until: datetime
    overall: dict[str, float | int | None]
    conversations: int
    handoff_rate: float | None
    per_librarian: dict[str, dict[str, float | int | None]]
    per_day: dict[str, dict[str, float | int | None]]
    # Chats that waited in a department's queue (asked for, or transferred there).
    per_department: dict[str, dict[str, float | int | None]]


def report(session: Session, days: int = 30, now: datetime | None = None) -> Report:
    until = now or utcnow()
    since = until - timedelta(days=days)
    chats = session.scalars(
        select(LiveChat).where(LiveChat.requested_at >= since, LiveChat.requested_at < until)
    ).all()
    overall = Group()
    by_staff: dict[str, Group] = defaultdict(Group)
    by_day: dict[str, Group] = defaultdict(Group)
    by_department: dict[str, Group] = defaultdict(Group)
    for chat in chats:
        overall.add(chat)
        by_day[chat.requested_at.date().isoformat()].add(chat)
        if chat.staff is not None:
            by_staff[chat.staff.username].add(chat)
        if chat.department:
            by_department[chat.department].add(chat)
    conversations = int(
        session.scalar(
            select(func.count(Conversation.id)).where(Conversation.last_activity_at >= since)
        )
        or 0
    )
    return Report(
        since,
        until,
        overall.row(),
        conversations,
        (len(chats) / conversations) if conversations else None,
        {k: g.row() for k, g in sorted(by_staff.items())},
        {k: g.row() for k, g in sorted(by_day.items())},
        {k: g.row() for k, g in sorted(by_department.items())},
    )


def to_csv(rep: Report) -> str:
    out = io.StringIO()
    columns = list(rep.overall)
    w = csv.writer(out)
    w.writerow(["scope", "key", *columns])
    w.writerow(["all", f"{rep.since.date()}..{rep.until.date()}", *rep.overall.values()])
    for key, row in rep.per_librarian.items():
        w.writerow(["librarian", key, *row.values()])
    for key, row in rep.per_day.items():
        w.writerow(["day", key, *row.values()])
    for key, row in rep.per_department.items():
        w.writerow(["department", key, *row.values()])
    w.writerow(["handoff_rate", "", rep.handoff_rate])
    return out.getvalue()
