"""Keeping feedback with its conversation, and reading it back for staff and /metrics."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.conversations.models import Conversation
from kb.db import utcnow
from kb.feedback.models import Feedback, FeedbackKind, FeedbackStatus

MAX_TEXT = 4000

# Words that say what kind of feedback it is, when the patron did not pick one.
_COMPLAINT = re.compile(
    r"投诉|不满|太差|很差|差劲|态度|太慢|太吵|太冷|太热|坏了|不好用|失望|糟糕|生气|抱怨"
    r"|complain|rude|terrible|awful|bad|broken|slow|noisy|annoy|unhappy|disappoint|worst",
    re.IGNORECASE,
)
_PRAISE = re.compile(
    r"表扬|感谢|谢谢|很好|非常好|太好了|赞|点赞|满意|棒|贴心|耐心"
    r"|praise|thank|great|excellent|awesome|love|helpful|wonderful|amazing|kudos",
    re.IGNORECASE,
)
_SUGGESTION = re.compile(
    r"建议|希望|能不能|可不可以|最好|应该|增加|延长"
    r"|suggest|should|could you|would be nice|please add|wish|idea|recommend",
    re.IGNORECASE,
)


class FeedbackError(ValueError):
    pass


def guess_kind(text: str) -> FeedbackKind:
    if _COMPLAINT.search(text):
        return FeedbackKind.COMPLAINT
    if _SUGGESTION.search(text):
        return FeedbackKind.SUGGESTION
    if _PRAISE.search(text):
        return FeedbackKind.PRAISE
    return FeedbackKind.OTHER


def leave_feedback(
    session: Session,
    text: str,
    *,
    sender_id: str | None,
    kind: FeedbackKind | None = None,
    language: str | None = None,
) -> Feedback:
    text = (text or "").strip()
    if not text:
        raise FeedbackError("feedback text must not be empty")
    conv = (
        session.scalar(select(Conversation).where(Conversation.sender_id == sender_id))
        if sender_id
        else None
    )
    row = Feedback(
        kind=kind or guess_kind(text),
        text=text[:MAX_TEXT],
        language=language,
        channel=conv.channel if conv else None,
        conversation_id=conv.id if conv else None,
        patron_id=conv.patron_id if conv else None,
    )
    session.add(row)
    session.flush()
    return row


MAX_NOTE = 2000


class FeedbackNotFound(FeedbackError):
    pass


def list_feedback(
    session: Session,
    *,
    kind: FeedbackKind | None = None,
    status: FeedbackStatus | None = None,
    since: datetime | None = None,
    limit: int | None = 100,
) -> list[Feedback]:
    query = select(Feedback).order_by(Feedback.id.desc())
    if limit is not None:
        query = query.limit(limit)
    if kind is not None:
        query = query.where(Feedback.kind == kind)
    if status is not None:
        query = query.where(Feedback.status == status)
    if since is not None:
        query = query.where(Feedback.created_at >= since)
    return list(session.scalars(query))


def _get(session: Session, feedback_id: int) -> Feedback:
    row = session.get(Feedback, feedback_id)
    if row is None:
        raise FeedbackNotFound(f"there is no feedback FB-{feedback_id:06d}")
    return row


def mark_seen(session: Session, feedback_id: int, staff: str | None = None) -> Feedback:
    """Read by a librarian. Reading handled feedback again leaves it handled."""
    row = _get(session, feedback_id)
    if row.status == FeedbackStatus.NEW:
        row.status = FeedbackStatus.SEEN
    if row.seen_at is None:
        row.seen_by, row.seen_at = staff, utcnow()
    session.flush()
    return row


def mark_handled(
    session: Session, feedback_id: int, *, staff: str, note: str | None = None
) -> Feedback:
    """Dealt with; the note says what was done. Handling it again replaces the note."""
    row = _get(session, feedback_id)
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise FeedbackError(f"the note is longer than {MAX_NOTE} characters")
    if row.seen_at is None:
        row.seen_by, row.seen_at = staff, utcnow()
    row.status = FeedbackStatus.HANDLED
    row.handled_by, row.handled_at = staff, utcnow()
    row.note = note or None
    session.flush()
    return row


def counts_by_kind(session: Session) -> dict[str, int]:
    """Every kind with how much feedback of it was ever left (for /metrics)."""
    counts = {k.value: 0 for k in FeedbackKind}
    for kind, n in session.execute(select(Feedback.kind, func.count()).group_by(Feedback.kind)):
        counts[FeedbackKind(kind).value] = int(n)
    return counts


def as_dict(row: Feedback) -> dict[str, Any]:
    return {
        "id": row.id,
        "reference": row.reference,
        "kind": row.kind.value,
        "text": row.text,
        "language": row.language,
        "channel": row.channel,
        "conversation_id": row.conversation_id,
        "status": row.status.value,
        "created_at": row.created_at.isoformat(),
        "seen_by": row.seen_by,
        "seen_at": row.seen_at.isoformat() if row.seen_at else None,
        "handled_by": row.handled_by,
        "handled_at": row.handled_at.isoformat() if row.handled_at else None,
        "note": row.note,
    }


CSV_COLUMNS = [
    "reference", "created_at", "kind", "status", "channel", "language", "text",
    "seen_by", "seen_at", "handled_by", "handled_at", "note", "conversation_id",
]  # fmt: skip


def to_csv(rows: list[Feedback]) -> str:
    """Spreadsheet-safe CSV: a cell a patron wrote that starts like a formula is quoted
    with a leading apostrophe, so opening the export never runs it."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        data = as_dict(row)
        writer.writerow({k: _cell(data[k]) for k in CSV_COLUMNS})
    return out.getvalue()


def _cell(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
