"""Purchase suggestions (patron-driven acquisitions)."""

from kb.acquisitions.models import PurchaseSuggestion, PurchaseSupporter, SuggestionStatus
from kb.acquisitions.service import (
    AlreadyDecided,
    HeldCopy,
    SuggestionError,
    SuggestionNotFound,
    SuggestionOutcome,
    as_dict,
    clean_isbn,
    decide,
    get_suggestion,
    held_in_catalog,
    list_suggestions,
    suggest_purchase,
)

__all__ = [
    "AlreadyDecided",
    "HeldCopy",
    "PurchaseSuggestion",
    "PurchaseSupporter",
    "SuggestionError",
    "SuggestionNotFound",
    "SuggestionOutcome",
    "SuggestionStatus",
    "as_dict",
    "clean_isbn",
    "decide",
    "get_suggestion",
    "held_in_catalog",
    "list_suggestions",
    "suggest_purchase",
]
