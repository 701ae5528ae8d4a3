"""The database steps of the delivery actions (each runs in a worker thread, see in_db).

Everything is looked up from the conversation id the engine gives (a keyed hash of
the channel user, see kb.patrons.sender_id): a patron only ever reaches their own
tickets and their own contact data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.catalog.models import Library
from kb.crypto import keyring
from kb.db import utcnow
from kb.delivery import drafts, notices, transitions
from kb.delivery.citations import Citation
from kb.delivery.service import (
    CancelOutcome,
    Duplicate,
    HeldLocally,
    Opened,
    RequestDraft,
    RequestIncomplete,
    cancel_own_request,
    find_own_request,
    open_request,
    own_requests,
)
from kb.delivery.states import DeliveryMethod, Event, ServiceType
from kb.patrons import patron_for_sender


@dataclass(frozen=True)
class PatronFacts:
    known: bool
    home_library: str | None = None
    email_on_file: bool = False


def patron_facts(session: Session, sender: str) -> PatronFacts:
    patron = patron_for_sender(session, sender)
    if patron is None:
        return PatronFacts(False)
    return PatronFacts(True, patron.home_library, bool(patron.email))


def save_email(session: Session, sender: str, address: str) -> bool:
    """Keep the address on the patron record (encrypted; looked up by keyed hash)."""
    patron = patron_for_sender(session, sender)
    if patron is None:
        return False
    patron.email = address
    patron.email_index = keyring().blind_index(address.strip().lower(), "email")
    return True


def lending_libraries(session: Session) -> list[tuple[str, str, str]]:
    """(code, Chinese name, English name) of the member libraries, for pickup buttons."""
    rows = session.scalars(select(Library).order_by(Library.code)).all()
    return [(lib.code, lib.name_zh, lib.name_en) for lib in rows]


def library_name(session: Session, code: str | None, language: str) -> str | None:
    library = session.get(Library, code) if code else None
    return library.name(language) if library is not None else code


@dataclass(frozen=True)
class DraftFound:
    citation: Citation | None
    refused: str | None = None  # malformed / bad_signature / expired / gone
    problems: list[dict[str, str]] = field(default_factory=list)


def draft_citation(session: Session, token: str) -> DraftFound:
    try:
        draft = drafts.load_draft(session, token, utcnow())
    except drafts.DraftRefused as refused:
        return DraftFound(None, refused.code)
    return DraftFound(drafts.citation_of(draft), None, list(draft.problems or []))


@dataclass(frozen=True)
class Outcome:
    kind: str  # opened / duplicate / held / incomplete / unknown_patron
    text: str
    ticket: str | None = None


def submit(
    session: Session,
    sender: str,
    citation: Citation,
    service: str,
    delivery: str,
    pickup: str | None,
    language: str,
) -> Outcome:
    patron = patron_for_sender(session, sender)
    if patron is None:
        return Outcome("unknown_patron", "")
    draft = RequestDraft(
        citation=citation,
        service_type=ServiceType(service),
        delivery_method=DeliveryMethod(delivery),
        pickup_library=pickup if delivery == "pickup" else None,
        language=language,
        source="chat",
    )
    try:
        outcome = open_request(session, patron, draft, now=utcnow())
    except RequestIncomplete as incomplete:
        problems = [p.text(language) for p in incomplete.problems]
        return Outcome(
            "incomplete", "；".join(problems) if language == "zh" else "; ".join(problems)
        )
    if isinstance(outcome, Duplicate):
        return Outcome(
            "duplicate",
            notices.duplicate_text(session, outcome.request, language),
            outcome.request.ticket,
        )
    if isinstance(outcome, HeldLocally):
        return Outcome("held", notices.held_locally_text(session, outcome, language))
    assert isinstance(outcome, Opened)
    return Outcome("opened", _opened_text(session, outcome, language), outcome.request.ticket)


def _opened_text(session: Session, opened: Opened, language: str) -> str:
    request = opened.request
    zh = language == "zh"
    if opened.routed:
        lender = library_name(session, request.current_lender, language)
        routed = (
            f"已发送给{lender}，对方答复后我会在这里通知您。"
            if zh
            else f"It has been sent to {lender}; I'll let you know here when they answer."
        )
    else:
        routed = (
            "联合目录中没有找到收藏这份文献的成员馆，文献传递中心的馆员会为您联系其他图书馆。"
            if zh
            else "No member library in the union catalog lists it, so a librarian at the "
            "delivery centre will find a library to ask."
        )
    head = (
        f"已提交，申请号 {request.ticket}。"
        if zh
        else f"Submitted: your request number is {request.ticket}."
    )
    return f"{head}{'' if zh else ' '}{routed}"


# --- the patron's tickets ----------------------------------------------------------


def not_found_text(ticket: str, language: str) -> str:
    """The one answer for a number that does not exist and one that is someone else's."""
    if language == "zh":
        return f"没有找到您名下编号为 {ticket} 的文献传递申请，请核对申请号。"
    return f"I can't find a request {ticket} among your requests. Please check the number."


def status_of(session: Session, sender: str, tickets: list[str], language: str) -> list[str]:
    """Status lines: of the named tickets, else of the patron's open ones."""
    patron = patron_for_sender(session, sender)
    if tickets:
        lines = []
        for ticket in tickets:
            request = find_own_request(session, patron.id, ticket) if patron else None
            lines.append(
                notices.status_line(session, request, language)
                if request is not None
                else not_found_text(ticket, language)
            )
        return lines
    requests = own_requests(session, patron.id) if patron else []
    if not requests:
        return [
            "您目前没有进行中的文献传递申请。"
            if language == "zh"
            else "You have no open document delivery requests."
        ]
    head = (
        f"您有 {len(requests)} 个进行中的申请："
        if language == "zh"
        else f"Your open requests ({len(requests)}):"
    )
    lines = [notices.status_line(session, r, language) for r in requests]
    return lines if len(lines) == 1 else [head + "\n" + "\n".join(lines)]


def open_tickets(session: Session, sender: str) -> list[tuple[str, str]]:
    """(ticket, short label) of the patron's open requests, newest first."""
    patron = patron_for_sender(session, sender)
    if patron is None:
        return []
    return [(r.ticket, r.citation.label()[:40]) for r in own_requests(session, patron.id)]


@dataclass(frozen=True)
class Cancellable:
    found: bool
    cancellable: bool = False
    line: str = ""  # its status line


def check_cancellable(session: Session, sender: str, ticket: str, language: str) -> Cancellable:
    patron = patron_for_sender(session, sender)
    request = find_own_request(session, patron.id, ticket) if patron else None
    if request is None:
        return Cancellable(False)
    allowed = (request.status, Event.CANCEL) in transitions.TABLE
    return Cancellable(True, allowed, notices.status_line(session, request, language))


def cancel(session: Session, sender: str, ticket: str, language: str) -> tuple[str, str]:
    """(outcome, status line) after cancelling the patron's ticket."""
    patron = patron_for_sender(session, sender)
    if patron is None:
        return CancelOutcome.NOT_FOUND.value, ""
    result = cancel_own_request(session, patron.id, ticket, now=utcnow(), note="chat")
    line = notices.status_line(session, result.request, language) if result.request else ""
    return result.outcome.value, line


def as_journal_article(session: Session, citation: Citation) -> Citation:
    """A bare title that the union catalog knows as a journal ("《计算机学报》上的一篇") names
    the journal, not the item: the form then asks which article."""
    from kb.delivery.matching import candidate_records
    from kb.delivery.states import Genre

    if citation.present() != ["title"] or citation.genre is not Genre.UNKNOWN:
        return citation
    probe = Citation(genre=Genre.ARTICLE, journal=citation.title)
    if not any(r.format.value == "journal" for r in candidate_records(session, probe)):
        return citation
    return probe
