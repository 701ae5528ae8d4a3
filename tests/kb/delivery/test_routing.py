"""Routing: who is asked, in what order, and moving along the rota to the end."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kb.catalog.models import HoldingStatus
from kb.delivery import desk, routing, service
from kb.delivery.desk import Actor
from kb.delivery.models import RotaEntry
from kb.delivery.service import HeldLocally, Opened
from kb.delivery.states import Event, ReasonUnfilled, RotaState, ServiceType, Status

from .conftest import NOW, article_draft, book_draft, hold


def open_(session, patron, draft, now=NOW):
    outcome = service.open_request(session, patron, draft, now=now)
    assert isinstance(outcome, Opened), outcome
    return outcome.request


def rota_of(request) -> list[tuple[str, RotaState, ReasonUnfilled | None]]:
    return [(e.library_code, e.state, e.reason) for e in request.rota]


def past_answers(session, library: str, filled: int, failed: int, days: float) -> None:
    """History: closed answers of a lender (what its measured record is made of)."""
    from kb.delivery.models import DeliveryRequest

    request = DeliveryRequest(
        ticket=f"DD-2025-{library}",
        patron_id=1,
        service_type=ServiceType.COPY,
        delivery_method="email",
    )
    session.add(request)
    for i in range(filled + failed):
        state = RotaState.FILLED if i < filled else RotaState.UNFILLED
        request.rota.append(
            RotaEntry(
                position=i,
                library_code=library,
                state=state,
                sent_at=NOW - timedelta(days=30),
                answered_at=NOW - timedelta(days=30 - days),
                answer_days=days,
            )
        )
    session.flush()


def test_available_lenders_come_first_and_non_lenders_are_skipped(
    session, catalog, patron, backend
):
    book = catalog.three_body
    hold(book, "PKU", HoldingStatus.ON_LOAN)
    hold(book, "THU")
    hold(book, "CAP")  # the Capital Library does not lend to the consortium
    hold(book, "BNU", loanable=False)  # reference copy: not for a loan
    hold(book, "BIT", HoldingStatus.MISSING)
    request = open_(session, patron, book_draft())
    assert rota_of(request) == [
        ("THU", RotaState.SENT, None),
        ("PKU", RotaState.PENDING, None),
        ("CAP", RotaState.SKIPPED, ReasonUnfilled.NOT_AVAILABLE_FOR_ILL),
        ("BNU", RotaState.SKIPPED, ReasonUnfilled.NON_CIRCULATING),
        ("BIT", RotaState.SKIPPED, ReasonUnfilled.NOT_ON_SHELF),
    ]
    assert (request.status, request.current_lender) == (Status.SENT, "THU")
    assert request.answer_due_at == NOW + timedelta(days=2)  # THU's response time
    assert (
        request.rota[0].ranking["available"] is True
        and request.rota[1].ranking["available"] is False
    )


def test_a_reference_copy_can_still_supply_a_copy(session, catalog, patron, backend):
    hold(catalog.journal, "BNU", loanable=False)
    request = open_(session, patron, article_draft())
    assert rota_of(request) == [("BNU", RotaState.SENT, None)]


def test_measured_fill_rate_and_speed_order_the_rota(session, catalog, patron, backend):
    for library in ("PKU", "THU", "BNU"):
        hold(catalog.journal, library)
    past_answers(session, "PKU", filled=12, failed=8, days=4.0)  # popular, slow, fills 60%
    past_answers(session, "THU", filled=18, failed=2, days=1.0)  # fast and reliable
    # BNU has no history: it starts at the prior (80% in 2 days), between the two.
    request = open_(session, patron, article_draft())
    assert [e.library_code for e in request.rota] == ["THU", "BNU", "PKU"]
    facts = {e.library_code: e.ranking for e in request.rota}
    assert facts["THU"]["fill_rate"] > facts["BNU"]["fill_rate"] > facts["PKU"]["fill_rate"]
    assert facts["BNU"]["answered"] == 0 and facts["PKU"]["answered"] == 20


def test_one_lucky_answer_does_not_make_a_favourite(session, catalog, patron, backend):
    for library in ("PKU", "THU"):
        hold(catalog.journal, library)
    past_answers(session, "THU", filled=40, failed=8, days=1.5)
    past_answers(session, "PKU", filled=1, failed=0, days=0.5)
    request = open_(session, patron, article_draft())
    assert request.rota[0].library_code == "THU"


def test_open_load_spreads_requests_over_equally_good_lenders(session, catalog, patron, backend):
    for library in ("PKU", "THU"):
        hold(catalog.journal, library)
    firsts = []
    for n in range(6):
        request = open_(session, patron, article_draft(doi=f"10.1000/load.{n}"))
        firsts.append(request.current_lender)
    # Same record, same prior: the one with fewer open requests is asked first each time.
    assert firsts == ["PKU", "THU", "PKU", "THU", "PKU", "THU"]


def test_patrons_own_library_holding_it_means_borrow_it_here(session, catalog, patron, backend):
    hold(catalog.three_body, "RUC", HoldingStatus.ON_LOAN)  # the patron's library, out on loan
    hold(catalog.three_body, "PKU")
    outcome = service.open_request(session, patron, book_draft(), now=NOW)
    assert isinstance(outcome, HeldLocally)
    assert outcome.library_code == "RUC" and not outcome.available_now
    # The patron can insist (their copy is out for months); their library is then not asked.
    forced = service.open_request(session, patron, book_draft(), now=NOW, even_if_held_locally=True)
    assert [e.library_code for e in forced.request.rota] == ["PKU"]


def test_own_reference_copy_does_not_count_for_a_loan(session, catalog, patron, backend):
    hold(catalog.three_body, "RUC", loanable=False)
    hold(catalog.three_body, "PKU")
    assert isinstance(service.open_request(session, patron, book_draft(), now=NOW), Opened)


def test_unfilled_moves_on_and_the_end_of_the_rota_is_unfilled_with_reasons(
    session, catalog, patron, backend
):
    for library in ("PKU", "THU", "BNU"):
        hold(catalog.journal, library)
    hold(catalog.journal, "CAP")
    request = open_(session, patron, article_draft())
    first, second, third = (e.library_code for e in request.rota[:3])
    later = NOW + timedelta(hours=5)
    desk.reject(
        session,
        request.ticket,
        Actor.lender("li", first),
        reason=ReasonUnfilled.NOT_ON_SHELF,
        now=later,
    )
    assert (request.status, request.current_lender) == (Status.SENT, second)
    desk.forward(
        session,
        request.ticket,
        Actor.lender("wang", second),
        now=later,
        note="our copy is at the bindery",
    )
    assert request.current_lender == third
    desk.reject(
        session,
        request.ticket,
        Actor.lender("zhao", third),
        reason=ReasonUnfilled.POLICY_PROBLEM,
        now=later,
    )
    assert request.status is Status.UNFILLED and request.current_lender is None
    assert routing.unfilled_reasons(request) == [
        (first, ReasonUnfilled.NOT_ON_SHELF),
        (third, ReasonUnfilled.POLICY_PROBLEM),
        ("CAP", ReasonUnfilled.NOT_AVAILABLE_FOR_ILL),
    ]
    trail = [(e.event, e.lender, e.routed_to, e.to_status) for e in request.events]
    assert trail == [
        (Event.SUBMIT, None, None, Status.SUBMITTED),
        (Event.ROUTE, None, first, Status.SENT),
        (Event.UNFILLED, first, second, Status.SENT),
        (Event.FORWARD, second, third, Status.SENT),
        (Event.UNFILLED, third, None, Status.UNFILLED),
    ]
    assert request.rota[1].state is RotaState.FORWARDED
    assert request.rota[0].answer_days == pytest.approx(5 / 24)


def test_no_answer_within_response_time_moves_to_the_next_lender(session, catalog, patron, backend):
    hold(catalog.journal, "BNU")  # answers within 3 days
    hold(catalog.journal, "PKU")  # within 2
    past_answers(session, "BNU", filled=30, failed=0, days=0.5)
    request = open_(session, patron, article_draft())
    assert request.current_lender == "BNU"
    assert routing.advance_overdue(session, NOW + timedelta(days=2, hours=23)) == []
    moved = routing.advance_overdue(session, NOW + timedelta(days=3, minutes=1))
    assert moved == [request]
    assert (request.status, request.current_lender) == (Status.SENT, "PKU")
    assert request.rota[0].state is RotaState.NO_ANSWER
    assert request.rota[0].reason is ReasonUnfilled.NO_ANSWER
    assert request.events[-1].role.value == "system"
    assert request.answer_due_at == NOW + timedelta(days=3, minutes=1) + timedelta(days=2)
    routing.advance_overdue(session, NOW + timedelta(days=6))
    assert request.status is Status.UNFILLED
    assert routing.unfilled_reasons(request) == [
        ("BNU", ReasonUnfilled.NO_ANSWER),
        ("PKU", ReasonUnfilled.NO_ANSWER),
    ]


def test_accepting_gives_the_lender_its_supply_time_and_it_can_still_lapse(
    session, catalog, patron, backend
):
    hold(catalog.journal, "PKU")
    hold(catalog.journal, "THU")
    request = open_(session, patron, article_draft())
    lender = request.current_lender
    desk.accept(session, request.ticket, Actor.lender("li", lender), now=NOW + timedelta(days=1))
    assert request.status is Status.WILL_SUPPLY
    assert request.answer_due_at == NOW + timedelta(days=6)  # delivery_supply_days = 5
    assert routing.advance_overdue(session, NOW + timedelta(days=5)) == []
    routing.advance_overdue(session, NOW + timedelta(days=6, seconds=1))
    assert request.status is Status.SENT and request.current_lender != lender


def test_nothing_in_the_catalog_waits_for_the_delivery_centre(session, catalog, patron, backend):
    outcome = service.open_request(session, patron, article_draft(), now=NOW)
    assert isinstance(outcome, Opened) and not outcome.routed
    request = outcome.request
    assert request.status is Status.SUBMITTED and request.rota == []
    assert desk.unrouted_queue(session) == [request]
    # The centre knows who has it (outside the union catalog) and sends it there.
    desk.add_lenders_and_route(session, request.ticket, Actor.centre("chen"), ["BIT"], now=NOW)
    assert (request.status, request.current_lender) == (Status.SENT, "BIT")
    with pytest.raises(desk.UnknownLibrary, match="NOPE"):
        desk.add_lenders_and_route(session, request.ticket, Actor.centre("chen"), ["NOPE"], now=NOW)


def test_a_librarian_routing_with_nobody_to_ask_closes_it_unfilled(
    session, catalog, patron, backend
):
    request = service.open_request(session, patron, article_draft(), now=NOW).request
    routing.route(session, request, now=NOW, actor="chen", role=desk.Role.LIBRARIAN)
    assert request.status is Status.UNFILLED
    assert request.events[-1].reason is ReasonUnfilled.NOT_HELD


def test_supplying_counts_towards_the_lenders_measured_record(session, catalog, patron, backend):
    hold(catalog.journal, "PKU")
    request = open_(session, patron, article_draft())
    desk.supply_copy(
        session,
        request.ticket,
        Actor.lender("li", "PKU"),
        now=NOW + timedelta(days=1.5),
        link="https://example.org/copy.pdf",
    )
    record = routing.lender_records(session, ["PKU"], NOW + timedelta(days=2))["PKU"]
    assert (record.answered, record.filled, record.filled_days) == (1, 1, pytest.approx(1.5))
    # Old answers fall out of the window.
    assert routing.lender_records(session, ["PKU"], NOW + timedelta(days=400)) == {}
