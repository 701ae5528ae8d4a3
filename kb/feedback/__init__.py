"""Patron feedback left in chat (complaints, praise, suggestions)."""

from kb.feedback.models import Feedback, FeedbackKind, FeedbackStatus
from kb.feedback.service import (
    FeedbackError,
    as_dict,
    counts_by_kind,
    guess_kind,
    leave_feedback,
    list_feedback,
    mark_seen,
)

__all__ = [
    "Feedback",
    "FeedbackError",
    "FeedbackKind",
    "FeedbackStatus",
    "as_dict",
    "counts_by_kind",
    "guess_kind",
    "leave_feedback",
    "list_feedback",
    "mark_seen",
]
