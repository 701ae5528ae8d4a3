"""Purchase suggestions: duplicate checks, storing, deciding and telling the patrons."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kb.acquisitions.models import PurchaseSuggestion, PurchaseSupporter, SuggestionStatus
from kb.catalog.identifiers import normalize_isbn
from kb.catalog.search import ParsedQuery, search
from kb.catalog.search.results import LibraryAvailability
from kb.conversations.models import Conversation
from kb.db import utcnow
from kb.outbound import enqueue
from kb.patrons.models import Patron

MAX_TITLE = 500
MAX_REASON = 2000


class SuggestionError(ValueError):
    """A suggestion or decision that cannot be saved; the message says why."""


class SuggestionNotFound(LookupError):
    pass


class AlreadyDecided(SuggestionError):
    pass


def _fold(text: str | None) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return re.sub(r"[\W_]+", "", text)


def _words(text: str | None) -> set[str]:
    return {
        w
        for w in re.findall(r"\w+", unicodedata.normalize("NFKC", text or "").casefold())
        if len(w) > 1
    }


def same_author(wanted: str, recorded: str) -> bool:
    """ "Ursula K. Le Guin" is "Le Guin, Ursula K."; 刘慈欣 is 刘慈欣 著."""
    a, b = _fold(wanted), _fold(recorded)
    if a and b and (a in b or b in a):
        return True
    wa, wb = _words(wanted), _words(recorded)
    return bool(wa and wb and (wa <= wb or wb <= wa))


def match_key(title: str, author: str | None) -> str:
    return (_fold(title) + "|" + _fold(author))[:200]


@dataclass(frozen=True)
class HeldCopy:
    """The catalog already has it: which record, and where copies are."""

    record_id: int
    title: str
    authors: list[str]
    availability: list[LibraryAvailability]


def held_in_catalog(
    session: Session, title: str, author: str | None, isbn: str | None
) -> HeldCopy | None:
    """The catalog record for this title (and author) or ISBN, if the consortium holds it."""
    if isbn:
        page = search(session, ParsedQuery(text=isbn, isbns=(isbn,)), page_size=1)
        if page.hits and page.hits[0].matched_identifier:
            hit = page.hits[0]
            return HeldCopy(hit.record.id, hit.record.title, hit.record.authors, hit.availability)
    wanted, who = _fold(title), _fold(author)
    if not wanted:
        return None
    page = search(session, ParsedQuery(text=title, title=title), page_size=10)
    for hit in page.hits:
        titles = [hit.record.title, *hit.record.variant_titles]
        if hit.record.subtitle:
            titles.append(f"{hit.record.title} {hit.record.subtitle}")
        if wanted not in {_fold(t) for t in titles}:
            continue
        if who and not any(same_author(author or "", a) for a in hit.record.authors):
            continue
        return HeldCopy(hit.record.id, hit.record.title, hit.record.authors, hit.availability)
    return None


def open_duplicate(
    session: Session, title: str, author: str | None, isbn: str | None
) -> PurchaseSuggestion | None:
    """An open suggestion for the same item (same ISBN, or same title and author)."""
    clauses = [PurchaseSuggestion.match_key == match_key(title, author)]
    if isbn:
        clauses.append(PurchaseSuggestion.isbn == isbn)
    if not author:
        # "Same title, no author given" matches a suggestion that named one.
        clauses.append(PurchaseSuggestion.match_key.startswith(_fold(title) + "|"))
    return session.scalar(
        select(PurchaseSuggestion)
        .where(PurchaseSuggestion.status == SuggestionStatus.OPEN, or_(*clauses))
        .order_by(PurchaseSuggestion.id)
    )


@dataclass(frozen=True)
class SuggestionOutcome:
    kind: str  # "held" (not stored), "joined" (an open one exists), "created"
    suggestion: PurchaseSuggestion | None = None
    held: HeldCopy | None = None


def clean_isbn(text: str | None) -> str | None:
    """The ISBN-13 for what the patron typed; None when nothing usable was given."""
    if not text or not text.strip():
        return None
    return normalize_isbn(text)


def suggest_purchase(
    session: Session,
    *,
    title: str,
    author: str | None,
    isbn: str | None,
    reason: str | None,
    sender_id: str | None,
    language: str | None,
) -> SuggestionOutcome:
    """Check the catalog and open suggestions, then store the suggestion (or a vote for one)."""
    title = (title or "").strip().strip("《》\"“”'")
    author = (author or "").strip() or None
    reason = (reason or "").strip()[:MAX_REASON] or None
    if not title:
        raise SuggestionError("a title is needed")
    if len(title) > MAX_TITLE:
        raise SuggestionError(f"the title is longer than {MAX_TITLE} characters")
    isbn = clean_isbn(isbn) if isbn else None
    held = held_in_catalog(session, title, author, isbn)
    if held is not None:
        return SuggestionOutcome("held", held=held)
    conv = (
        session.scalar(select(Conversation).where(Conversation.sender_id == sender_id))
        if sender_id
        else None
    )
    patron_id = conv.patron_id if conv else None
    existing = open_duplicate(session, title, author, isbn)
    if existing is not None:
        _support(session, existing, patron_id)
        return SuggestionOutcome("joined", suggestion=existing)
    suggestion = PurchaseSuggestion(
        title=title,
        author=author,
        isbn=isbn,
        match_key=match_key(title, author),
        reason=reason,
        language=language,
        patron_id=patron_id,
        conversation_id=conv.id if conv else None,
    )
    session.add(suggestion)
    session.flush()
    _support(session, suggestion, patron_id)
    return SuggestionOutcome("created", suggestion=suggestion)


def _support(session: Session, suggestion: PurchaseSuggestion, patron_id: int | None) -> None:
    if patron_id is None:
        return
    if any(s.patron_id == patron_id for s in suggestion.supporters):
        return
    suggestion.supporters.append(PurchaseSupporter(patron_id=patron_id))
    session.flush()


def list_suggestions(
    session: Session, status: SuggestionStatus | None = None, limit: int = 100
) -> list[PurchaseSuggestion]:
    query = select(PurchaseSuggestion).order_by(PurchaseSuggestion.id.desc()).limit(limit)
    if status is not None:
        query = query.where(PurchaseSuggestion.status == status)
    return list(session.scalars(query))


def get_suggestion(session: Session, suggestion_id: int) -> PurchaseSuggestion:
    found = session.get(PurchaseSuggestion, suggestion_id)
    if found is None:
        raise SuggestionNotFound(f"no purchase suggestion {suggestion_id}")
    return found


def _notice(suggestion: PurchaseSuggestion, language: str) -> str:
    note = suggestion.decision_note
    if language == "zh":
        head = f"您推荐购买的《{suggestion.title}》（{suggestion.reference}）"
        if suggestion.status == SuggestionStatus.ACCEPTED:
            text = head + "已被采纳，图书馆将采购。到馆后可在馆藏目录中查到。"
            return text + (f"备注：{note}" if note else "")
        return head + f"这次没有被采纳。原因：{note}"
    head = f'Your purchase suggestion "{suggestion.title}" ({suggestion.reference})'
    if suggestion.status == SuggestionStatus.ACCEPTED:
        text = head + " was accepted: the library will buy it, and it will show up in the catalog."
        return text + (f" Note: {note}" if note else "")
    return head + f" was not accepted this time. Reason: {note}"


def decide(
    session: Session,
    suggestion_id: int,
    *,
    accept: bool,
    note: str | None,
    staff: str,
) -> PurchaseSuggestion:
    """Accept or decline (a reason is required to decline); every supporter is told."""
    suggestion = get_suggestion(session, suggestion_id)
    if suggestion.status != SuggestionStatus.OPEN:
        raise AlreadyDecided(
            f"{suggestion.reference} was already {suggestion.status.value}"
            f" by {suggestion.decided_by}"
        )
    note = (note or "").strip() or None
    if not accept and not note:
        raise SuggestionError("give the reason for declining: patrons are told it")
    suggestion.status = SuggestionStatus.ACCEPTED if accept else SuggestionStatus.DECLINED
    suggestion.decision_note = note
    suggestion.decided_by = staff
    suggestion.decided_at = utcnow()
    for supporter in suggestion.supporters:
        patron = session.get(Patron, supporter.patron_id)
        language = (patron.language if patron else None) or suggestion.language or "zh"
        enqueue(
            session,
            supporter.patron_id,
            _notice(suggestion, language),
            kind="purchase_decision",
            dedupe_key=f"purchase:{suggestion.id}:{supporter.patron_id}",
        )
    session.flush()
    return suggestion


def as_dict(s: PurchaseSuggestion) -> dict[str, object]:
    return {
        "id": s.id,
        "reference": s.reference,
        "title": s.title,
        "author": s.author,
        "isbn": s.isbn,
        "reason": s.reason,
        "language": s.language,
        "status": s.status.value,
        "supporters": len(s.supporters),
        "decision_note": s.decision_note,
        "decided_by": s.decided_by,
        "decided_at": s.decided_at.isoformat() if s.decided_at else None,
        "created_at": s.created_at.isoformat(),
        "conversation_id": s.conversation_id,
    }
