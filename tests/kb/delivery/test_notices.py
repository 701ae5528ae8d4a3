"""What patrons read about their requests, in Chinese and English."""

from __future__ import annotations

from datetime import timedelta

from kb.catalog.models import HoldingStatus
from kb.delivery import desk, notices, routing, service
from kb.delivery.desk import Actor
from kb.delivery.states import ReasonUnfilled

from .conftest import NOW, article_draft, book_draft, hold


def test_status_line_names_the_lender_and_when_to_expect_an_answer(session, catalog, patron):
    hold(catalog.journal, "PKU")
    request = service.open_request(session, patron, article_draft(), now=NOW).request
    assert notices.status_line(session, request, "zh") == (
        "DD-2026-000001 《基于深度学习的图书推荐研究》："
        "已发送至提供馆（北京大学图书馆），预计 2026-03-04 前有答复。"
    )
    assert notices.status_line(session, request, "en") == (
        'DD-2026-000001 "基于深度学习的图书推荐研究": sent to a lending library '
        "(Peking University Library); next answer due by 2026-03-04."
    )


def test_unfilled_says_why_each_library_could_not(session, catalog, patron):
    hold(catalog.three_body, "PKU")
    hold(catalog.three_body, "BIT", HoldingStatus.MISSING)
    request = service.open_request(session, patron, book_draft(), now=NOW).request
    desk.reject(
        session,
        request.ticket,
        Actor.lender("li", "PKU"),
        reason=ReasonUnfilled.NON_CIRCULATING,
        now=NOW,
    )
    assert notices.status_line(session, request, "zh").endswith(
        "未能满足：北京大学图书馆（该馆藏不外借）；北京理工大学图书馆（不在架上）。"
    )
    assert notices.status_line(session, request, "en").endswith(
        "could not be supplied: Peking University Library (not lent out (non-circulating)); "
        "Beijing Institute of Technology Library (not on the shelf)."
    )


def test_a_delivered_copy_comes_with_its_download_link(session, catalog, patron):
    hold(catalog.journal, "PKU")
    request = service.open_request(session, patron, article_draft(), now=NOW).request
    supplied = desk.supply_copy(
        session,
        request.ticket,
        Actor.lender("li", "PKU"),
        now=NOW,
        filename="a.pdf",
        content=b"%PDF",
    )
    line = notices.status_line(session, request, "en")
    assert (
        "copy delivered; download it by 2026-03-16: http://127.0.0.1:8000/delivery/files/" in line
    )
    assert supplied.download_token in line


def test_push_messages_only_for_steps_the_patron_cares_about(session, catalog, patron):
    for library in ("PKU", "THU"):
        hold(catalog.three_body, library)
    request = service.open_request(session, patron, book_draft(), now=NOW).request
    first = request.current_lender
    desk.acknowledge(session, request.ticket, Actor.lender("li", first), now=NOW)
    routing.advance_overdue(session, NOW + timedelta(days=3))  # moved to the other lender
    second = request.current_lender
    desk.accept(session, request.ticket, Actor.lender("wang", second), now=NOW + timedelta(days=3))
    desk.ship_loan(
        session, request.ticket, Actor.lender("wang", second), now=NOW + timedelta(days=4)
    )
    sent = [(e.event.value, notices.notice_for(session, request, e)) for e in request.events]
    pushed = [(event, text) for event, text in sent if text]
    accepted_by = "清华大学图书馆" if second == "THU" else "北京大学图书馆"
    assert pushed == [
        ("will_supply", f"DD-2026-000001 《三体》：提供馆已接受（{accepted_by}）。"),
        ("ship_loan", "DD-2026-000001 《三体》：图书已借出，可取书，请到中国人民大学图书馆取书。"),
    ]
    # Patron's own actions and lender changes are never pushed.
    cancelled = service.open_request(session, patron, article_draft(), now=NOW).request
    service.cancel_own_request(session, patron.id, cancelled.ticket, now=NOW)
    assert notices.notice_for(session, cancelled, cancelled.events[-1]) is None


def test_answers_instead_of_a_ticket(session, catalog, patron):
    from datetime import date

    local = hold(catalog.three_body, "RUC")
    local.call_number = "I247.55/4421"
    outcome = service.open_request(session, patron, book_draft(), now=NOW)
    assert notices.held_locally_text(session, outcome, "zh") == (
        "您所在的中国人民大学图书馆有这份文献，目前在架，索书号 I247.55/4421，"
        "可以直接借阅，不需要文献传递。"
    )
    local.status, local.due_date = HoldingStatus.ON_LOAN, date(2026, 3, 20)
    outcome = service.open_request(session, patron, book_draft(), now=NOW)
    assert notices.held_locally_text(session, outcome, "en").startswith(
        "Your library, Renmin University of China Library, has it but it is out on loan "
        "(due back 2026-03-20); you can place a hold there."
    )
    hold(catalog.journal, "PKU")
    first = service.open_request(session, patron, article_draft(), now=NOW).request
    again = service.open_request(session, patron, article_draft(), now=NOW)
    assert notices.duplicate_text(session, again.request, "en").startswith(
        "You already asked for this, no need to ask again: DD-2026-000001"
    )
    assert again.request is first
