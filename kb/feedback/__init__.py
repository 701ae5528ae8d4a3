"""Patron feedback left in chat (complaints, praise, suggestions)."""

from kb.feedback.models import Feedback, FeedbackKind, FeedbackStatus
from kb.feedback.service import (
    FeedbackError,
    FeedbackNotFound,
    as_dict,
    counts_by_kind,
    guess_kind,
    leave_feedback,
    list_feedback,
    mark_handled,
    mark_seen,
    to_csv,
)

__all__ = [
    "Feedback",
    "FeedbackError",
    "FeedbackKind",
    "FeedbackNotFound",
    "FeedbackStatus",
    "as_dict",
    "counts_by_kind",
    "guess_kind",
    "leave_feedback",
    "list_feedback",
    "mark_handled",
    "mark_seen",
    "to_csv",
]
