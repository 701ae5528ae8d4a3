"""The patron side: opening tickets, duplicates, privacy of look-ups, cancelling."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from kb.db import sessionmaker_for
from kb.delivery import desk, service
from kb.delivery.citations import Citation
from kb.delivery.desk import Actor
from kb.delivery.service import CancelOutcome, Duplicate, Opened, RequestDraft, RequestIncomplete
from kb.delivery.states import DeliveryMethod, Genre, ReasonUnfilled, ServiceType, Status
from kb.patrons.models import Patron

from .conftest import NOW, add_libraries, article_draft, book_draft, hold


def test_a_complete_request_opens_a_ticket_routed_to_a_lender(session, catalog, patron, backend):
    hold(catalog.journal, "PKU")
    outcome = service.open_request(session, patron, article_draft(), now=NOW)
    assert isinstance(outcome, Opened) and outcome.routed
    request = outcome.request
    assert request.ticket == "DD-2026-000001"
    assert (request.status, request.current_lender, request.requesting_library) == (
        Status.SENT,
        "PKU",
        "RUC",
    )
    assert request.record_id == catalog.journal.id and request.subject_class == "G"
    assert request.citation.article_title == "基于深度学习的图书推荐研究"
    assert request.events[0].actor == "patron" and request.events[0].note == "chat"


def test_contact_details_and_notes_are_encrypted_at_rest(session, catalog, patron, backend):
    hold(catalog.journal, "PKU")
    draft = article_draft()
    draft.contact_phone, draft.notes = "13912345678", "请尽快，我下周答辩"
    ticket = service.open_request(session, patron, draft, now=NOW).request.ticket
    session.commit()
    row = session.execute(
        text("SELECT contact_email, contact_phone, contact_name, notes FROM delivery_requests")
    ).one()
    assert all(value.startswith("enc1:") for value in row)
    assert "13912345678" not in "".join(row) and "答辩" not in "".join(row)
    request = service.find_own_request(session, patron.id, ticket)
    assert (request.contact_phone, request.notes, request.contact_name) == (
        "13912345678",
        "请尽快，我下周答辩",
        "王小明",
    )


def test_what_is_missing_is_named_in_both_languages(session, catalog, patron):
    draft = RequestDraft(citation=Citation(genre=Genre.ARTICLE, article_title="Deep learning"))
    assert draft.missing() == ["journal", "service_type", "delivery_method"]
    draft.service_type, draft.delivery_method = ServiceType.COPY, DeliveryMethod.EMAIL
    patron.email = None
    with pytest.raises(RequestIncomplete) as refused:
        service.open_request(session, patron, draft, now=NOW)
    assert refused.value.missing == ["journal", "contact_email"]
    assert "journal name (or ISSN)" in str(refused.value) and "e-mail address" in str(refused.value)


def test_wrong_values_are_refused_with_the_field_named(session, catalog, patron):
    draft = book_draft()
    draft.delivery_method, draft.contact_email = DeliveryMethod.EMAIL, "reader at example"
    draft.need_before, draft.max_cost = date(2026, 3, 1), Decimal("-5")
    with pytest.raises(RequestIncomplete) as refused:
        service.open_request(session, patron, draft, now=NOW)
    codes = [p.code for p in refused.value.problems]
    assert codes == ["email_invalid", "need_before_past", "max_cost_negative", "loan_needs_pickup"]
    assert "借阅原书只能到馆自取" in refused.value.problems[-1].text("zh")
    assert session.execute(text("SELECT count(*) FROM delivery_requests")).scalar() == 0


def test_same_patron_same_doi_still_open_gets_the_existing_ticket(
    session, catalog, patron, other_patron, backend
):
    hold(catalog.journal, "PKU")
    first = service.open_request(session, patron, article_draft(), now=NOW).request
    again = service.open_request(session, patron, article_draft(), now=NOW + timedelta(hours=1))
    assert isinstance(again, Duplicate) and again.request is first
    # The same DOI typed differently is the same DOI.
    upper = article_draft(doi="10.13266/J.ISSN.0252-3116.2019.03.002")
    upper.citation.doi = upper.citation.doi.lower()
    assert isinstance(service.open_request(session, patron, upper, now=NOW), Duplicate)
    # Another patron asking for it is another request.
    assert isinstance(service.open_request(session, other_patron, article_draft(), now=NOW), Opened)
    # Once closed, asking again opens a new ticket.
    service.cancel_own_request(session, patron.id, first.ticket, now=NOW)
    reopened = service.open_request(session, patron, article_draft(), now=NOW)
    assert isinstance(reopened, Opened) and reopened.request.ticket != first.ticket


def test_isbn_duplicates_are_books_not_chapters(session, catalog, patron, backend):
    hold(catalog.three_body, "PKU")
    service.open_request(session, patron, book_draft(), now=NOW)
    assert isinstance(service.open_request(session, patron, book_draft(), now=NOW), Duplicate)

    def chapter(pages: str) -> RequestDraft:
        return RequestDraft(
            citation=Citation(genre=Genre.CHAPTER, title="三体", isbn="9787536692930", pages=pages),
            service_type=ServiceType.COPY,
            delivery_method=DeliveryMethod.EMAIL,
        )

    assert isinstance(service.open_request(session, patron, chapter("1-20"), now=NOW), Opened)
    assert isinstance(service.open_request(session, patron, chapter("21-40"), now=NOW), Opened)


def test_a_double_submit_at_the_same_moment_opens_one_ticket(db_url, backend):
    make = sessionmaker_for(db_url)
    with make() as s:
        add_libraries(s)
        s.add(Patron(id=1, home_library="RUC"))
        s.commit()

    def submit(_: int) -> str:
        with make() as s:
            outcome = service.open_request(s, s.get(Patron, 1), article_draft(), now=NOW)
            s.commit()
            return outcome.request.ticket

    with ThreadPoolExecutor(max_workers=4) as pool:
        tickets = set(pool.map(submit, range(4)))
    assert len(tickets) == 1


def test_a_ticket_that_is_not_yours_looks_exactly_like_one_that_does_not_exist(
    session, catalog, patron, other_patron, backend
):
    hold(catalog.journal, "PKU")
    ticket = service.open_request(session, patron, article_draft(), now=NOW).request.ticket
    assert service.find_own_request(session, patron.id, ticket.lower()) is not None
    assert service.find_own_request(session, other_patron.id, ticket) is None
    assert service.find_own_request(session, other_patron.id, "DD-2026-999999") is None
    theirs = service.cancel_own_request(session, other_patron.id, ticket, now=NOW)
    missing = service.cancel_own_request(session, other_patron.id, "DD-2026-999999", now=NOW)
    assert theirs == missing == service.CancelResult(CancelOutcome.NOT_FOUND)
    assert service.find_own_request(session, patron.id, ticket).status is Status.SENT
    assert service.answer_conditions(session, other_patron.id, ticket, accept=True, now=NOW) is None
    assert service.own_requests(session, other_patron.id) == []
    assert [r.ticket for r in service.own_requests(session, patron.id)] == [ticket]


def test_cancelling_withdraws_the_request_from_the_lender(session, catalog, patron, backend):
    hold(catalog.journal, "PKU")
    request = service.open_request(session, patron, article_draft(), now=NOW).request
    result = service.cancel_own_request(
        session, patron.id, request.ticket, now=NOW, note="已在别处找到"
    )
    assert result.outcome is CancelOutcome.CANCELLED
    assert request.status is Status.CANCELLED and request.current_lender is None
    assert desk.lender_queue(session, "PKU") == []
    assert request.rota[0].state.value == "withdrawn"
    assert (request.events[-1].actor, request.events[-1].note, request.events[-1].lender) == (
        "patron",
        "已在别处找到",
        "PKU",
    )
    again = service.cancel_own_request(session, patron.id, request.ticket, now=NOW)
    assert again.outcome is CancelOutcome.NOT_CANCELLABLE and again.request is request


def test_a_supplied_request_can_no_longer_be_cancelled(session, catalog, patron, backend):
    hold(catalog.journal, "PKU")
    request = service.open_request(session, patron, article_draft(), now=NOW).request
    desk.supply_copy(
        session,
        request.ticket,
        Actor.lender("li", "PKU"),
        now=NOW,
        link="https://example.org/a.pdf",
    )
    result = service.cancel_own_request(session, patron.id, request.ticket, now=NOW)
    assert result.outcome is CancelOutcome.NOT_CANCELLABLE
    assert request.status is Status.COPY_COMPLETED


def test_patron_accepts_or_declines_conditions(session, catalog, patron, backend):
    for library in ("PKU", "THU"):
        hold(catalog.journal, library)
    declined = service.open_request(session, patron, article_draft(), now=NOW).request
    first = declined.current_lender
    desk.offer_conditions(
        session,
        declined.ticket,
        Actor.lender("li", first),
        now=NOW,
        note="费用 30 元，超过您设定的上限",
    )
    assert declined.status is Status.CONDITIONAL and declined.answer_due_at is None
    service.answer_conditions(session, patron.id, declined.ticket, accept=False, now=NOW)
    assert declined.status is Status.SENT and declined.current_lender != first
    assert declined.rota[0].reason is ReasonUnfilled.CONDITIONS_REJECTED

    accepted = service.open_request(
        session, patron, article_draft(doi="10.1000/other"), now=NOW
    ).request
    lender = accepted.current_lender
    desk.offer_conditions(
        session, accepted.ticket, Actor.lender("li", lender), now=NOW, note="仅限馆内阅览"
    )
    service.answer_conditions(session, patron.id, accepted.ticket, accept=True, now=NOW)
    assert (accepted.status, accepted.current_lender) == (Status.WILL_SUPPLY, lender)
    assert accepted.answer_due_at == NOW + timedelta(days=5)
