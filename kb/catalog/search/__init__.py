"""Catalog search service: what the catalog actions call.

- ``search(session, query, filters=SearchFilters(...), page=1, page_size=5) -> SearchPage``
- ``availability(session, record_id) -> list[LibraryHoldings]``
- ``suggest(session, query) -> Suggestions`` when a search found nothing
"""

from kb.catalog.search.query import ParsedQuery, parse_query
from kb.catalog.search.results import (
    ItemView,
    LibraryAvailability,
    LibraryHoldings,
    LibraryInfo,
    SearchFilters,
    SearchHit,
    SearchPage,
    describe_availability,
)
from kb.catalog.search.service import availability, search
from kb.catalog.search.suggest import Suggestion, Suggestions, suggest

__all__ = [
    "ItemView",
    "LibraryAvailability",
    "LibraryHoldings",
    "LibraryInfo",
    "ParsedQuery",
    "SearchFilters",
    "SearchHit",
    "SearchPage",
    "Suggestion",
    "Suggestions",
    "availability",
    "describe_availability",
    "parse_query",
    "search",
    "suggest",
]
