"""Reading what the patron answers inside the delivery forms.

Pure functions over the message text, intent and entities, so they can be tested
without the engine. Nothing is guessed: an answer that does not say copy/loan,
e-mail/pickup or yes/no leaves the slot empty and the form asks again.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from typing import Any

from kb.delivery.citations import Citation, ParseResult
from kb.delivery.intake import understand
from kb.delivery.states import Genre
from kb.delivery.texts import Problem

# A patron who gives up mid-form ("算了不要了", "never mind") must never have it taken as
# a title; the classifier usually says deny, the words catch the rest.
_STOP = re.compile(
    r"算了|不要了|不用了|不需要了|不申请了|别弄了|取消申请|"
    r"\bnever ?mind\b|\bforget (it|about it)\b|\bdon'?t bother\b|\bcancel (it|this|that)\b",
    re.IGNORECASE,
)
STOP_INTENTS = {"deny"}

# Other questions the patron may ask mid-form; the form steps aside and comes back.
INTERRUPT_INTENTS = {
    "faq", "bot_challenge", "ticket_status", "human_handoff", "greet", "out_of_scope",
    "search_catalog", "check_availability", "more_results",
}  # fmt: skip
# A title typed as an answer looks like a catalog search to the classifier; only a
# message that says "search"/"do you have" (or asks a question) is one.
_SEARCH_OR_QUESTION = re.compile(
    r"有没有|有吗|搜索|检索|查一下|找一下|帮我找|[?？]|怎么|吗$|"
    r"\b(search|find|look for|do you have|books? (about|on|by)|how|what|when|where|why)\b",
    re.IGNORECASE,
)
_SOFT_INTERRUPTS = {"search_catalog", "check_availability", "more_results", "out_of_scope"}

_COPY = re.compile(
    r"复印|复制|扫描|电子版|pdf|全文|章节|copy|copies|scan|pdf|digital|electronic", re.I
)
# "interlibrary loan" names the service, not a loan of the item.
_LOAN = re.compile(
    r"借原书|借书|借阅|原书|纸本|\bborrow|(?<!interlibrary )(?<!inter-library )\bloan\b|"
    r"physical|the book itself",
    re.I,
)
_EITHER = re.compile(
    r"都行|都可以|均可|随便|either|whichever|any of|both fine|doesn'?t matter", re.I
)
_EMAIL_WAY = re.compile(r"邮件|邮箱|电邮|e-?mail|\bmail\b|@", re.I)
_PICKUP_WAY = re.compile(
    r"自取|到馆|取书|领取|来拿|去拿|pick ?(it )?up|collect|in person|at the desk", re.I
)
_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# "doi: xyz", or something shaped like a DOI prefix ("10.1038nature") that intake rejected.
_LABELLED_DOI = re.compile(r"\bdoi\s*[:：]?\s*(\S+)|(?<![\w./-])(10\.\d{4,}\S*)", re.IGNORECASE)
# Words of a request around a reference ("帮我传递这篇", "can you get me") are not a title.
_REQUEST_WORDS = re.compile(
    r"再|还|也|就|是|的|帮我|帮忙|麻烦|请|我要|我想|需要|申请|传递|文献|文传|馆际互借|全文|原文|这篇|这本|一篇|一下|"
    r"论文|文章|给我|弄|求|获取|\b(can|could|you|please|pls|get|me|this|the|a|an|i|need|want|"
    r"request|article|paper|full|text|pdf|of|for|copy|ill|document|delivery)\b|[\s,.:;!?，。：；！？]",
    re.IGNORECASE,
)


def latest(tracker_message: dict[str, Any]) -> tuple[str, str, float, list[dict[str, Any]]]:
    """Text, intent name, confidence and entities of a parsed message."""
    intent = tracker_message.get("intent") or {}
    return (
        (tracker_message.get("text") or "").strip(),
        intent.get("name") or "",
        float(intent.get("confidence") or 0.0),
        tracker_message.get("entities") or [],
    )


def entity(entities: list[dict[str, Any]], name: str) -> str | None:
    return next(
        (str(e["value"]) for e in entities if e.get("entity") == name and e.get("value")), None
    )


def is_button(text: str) -> bool:
    return text.startswith("/")


def wants_to_stop(text: str, intent: str, entities: list[dict[str, Any]]) -> bool:
    if entity(entities, "dd_answer") == "cancel":
        return True
    if is_button(text):
        return False
    if intent == "cancel_ticket" and not entity(entities, "ticket_id"):
        return True
    return intent in STOP_INTENTS or bool(_STOP.search(text))


def is_interruption(text: str, intent: str, free_text: bool) -> bool:
    """Whether the message is another question rather than the answer asked for."""
    if intent not in INTERRUPT_INTENTS or is_button(text):
        return False
    if free_text and intent in _SOFT_INTERRUPTS:
        return bool(_SEARCH_OR_QUESTION.search(text))
    return True


# --- citations ---------------------------------------------------------------------


def citation_to_json(citation: Citation) -> str:
    values = asdict(citation)
    values["genre"] = citation.genre.value
    return json.dumps(values, ensure_ascii=False)


def citation_from_json(text: str | None) -> Citation | None:
    if not text:
        return None
    values = json.loads(text)
    values["genre"] = Genre(values.get("genre", "unknown"))
    return Citation(**values)


def usable(citation: Citation) -> bool:
    """Names an item at all (an identifier or some title)."""
    return bool(
        citation.doi or citation.pmid or citation.isbn or citation.issn
        or citation.title or citation.article_title or citation.journal
    )  # fmt: skip


def bad_doi(text: str, parsed: Citation) -> Problem | None:
    """A "doi:..." the patron typed that is not a DOI (intake would take it for a title)."""
    if parsed.doi:
        return None
    match = _LABELLED_DOI.search(text)
    if match is None:
        return None
    return Problem("doi_invalid", "doi", (match.group(1) or match.group(2)).rstrip(".,;"))


def only_request_words(text: str) -> bool:
    return not _REQUEST_WORDS.sub("", text)


def read_reference(
    text: str, entities: list[dict[str, Any]], *, whole_text: bool
) -> tuple[Citation, list[Problem], ParseResult]:
    """The citation in a message. ``whole_text``: the message answers "what do you need?".

    When the message is a request ("帮我传递这篇 doi:..."), only the identifiers and the
    title/author the model tagged count, plus the text itself if it is an OpenURL or a
    styled reference; the request words around them are not a title.
    """
    head, colon, rest = text.partition("：") if "：" in text[:20] else text.partition(":")
    if colon and rest.strip() and len(head) <= 20 and only_request_words(head):
        text = rest.strip()  # "帮我传递这篇：<reference>"
    result = understand(text)
    citation, problems = result.citation, list(result.problems)
    if not whole_text and not (result.kind == "openurl" or result.style not in (None, "plain")):
        citation = Citation(
            doi=citation.doi, pmid=citation.pmid, isbn=citation.isbn, issn=citation.issn
        )
        if citation.isbn:
            citation.genre = Genre.BOOK
        title, author = entity(entities, "title"), entity(entities, "author")
        if title:
            citation.title = title
        if author:
            citation.authors = [author]
    elif result.kind == "title" and citation.title and only_request_words(citation.title):
        citation.title = None  # "帮我传递这篇论文" names nothing yet
    doi = bad_doi(text, citation)
    if doi is not None:
        problems.append(doi)
        if citation.title and doi.value in citation.title:
            citation.title = None  # "doi:nature14539" is not a title either
    return citation, problems, result


# --- choices -----------------------------------------------------------------------


def read_service(text: str, entities: list[dict[str, Any]]) -> str | None:
    chosen = entity(entities, "dd_answer")
    if chosen in ("copy", "loan", "copy_or_loan"):
        return chosen
    if is_button(text):
        return None
    if _EITHER.search(text):
        return "copy_or_loan"
    copy, loan = bool(_COPY.search(text)), bool(_LOAN.search(text))
    if copy and loan:
        return "copy_or_loan"
    return "copy" if copy else "loan" if loan else None


def read_delivery(text: str, entities: list[dict[str, Any]]) -> str | None:
    chosen = entity(entities, "dd_answer")
    if chosen in ("email", "pickup"):
        return chosen
    if is_button(text):
        return None
    email, pickup = bool(_EMAIL_WAY.search(text)), bool(_PICKUP_WAY.search(text))
    if email == pickup:
        return None
    return "email" if email else "pickup"


def read_address(text: str) -> str | None:
    match = _ADDRESS.search(text)
    return match.group(0) if match else None


def read_confirm(text: str, intent: str, entities: list[dict[str, Any]]) -> str | None:
    """yes / cancel / change_citation / change_options, or None."""
    chosen = entity(entities, "dd_answer")
    if chosen in ("yes", "cancel", "change_citation", "change_options"):
        return chosen
    if is_button(text):
        return None
    if intent == "affirm":
        return "yes"
    if re.search(r"改|修改|change|edit|wrong", text, re.IGNORECASE):
        return "change_options"
    return None


def service_hint(citation: Citation) -> str | None:
    """Articles and chapters only ever come as copies; a book could be either."""
    if citation.genre is Genre.CHAPTER or citation.looks_like_article():
        return "copy"
    return None
