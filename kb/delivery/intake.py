"""One entry point for what a patron pastes: an OpenURL, DOI/ISBN/PMID, a reference, a title."""

from __future__ import annotations

from kb.delivery.citations import ParseResult, parse_citation
from kb.delivery.openurl import looks_like_openurl, parse_openurl
from kb.delivery.service import RequestDraft


def understand(text: str) -> ParseResult:
    """The citation in ``text``, which fields it gives, which are missing, and what was wrong."""
    if looks_like_openurl(text):
        return parse_openurl(text)
    return parse_citation(text)


def draft_from_text(text: str, language: str = "zh") -> tuple[RequestDraft, ParseResult]:
    """A request pre-filled from pasted text or an OpenURL link, and what reading it found.

    Only the citation is filled: service, delivery and contact are the patron's to choose,
    so ``draft.missing()`` lists them for the form (or the OpenURL page) to ask.
    """
    result = understand(text)
    source = "openurl" if result.kind == "openurl" else "chat"
    return RequestDraft(citation=result.citation, language=language, source=source), result
