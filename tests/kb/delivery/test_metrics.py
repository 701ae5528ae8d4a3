"""The BALIS-shaped report: by lender, requesting library and subject; CSV export."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from kb.delivery import desk, metrics, routing, service
from kb.delivery.desk import Actor
from kb.delivery.states import ReasonUnfilled

from .conftest import NOW, article_draft, book_draft, hold


@pytest.fixture
def month(session, catalog, patron, other_patron):
    """A month of requests with known outcomes."""
    hold(catalog.journal, "PKU")
    hold(catalog.journal, "THU")
    hold(catalog.three_body, "PKU")
    day = timedelta(days=1)
    # 1. article: PKU fills in 1 day (RUC patron)
    # 2. article: first lender says NotOnShelf, second fills 2 days later (RUC patron)
    # 3. article: both lenders let the time pass -> unfilled (BNU patron)
    # 4. book: PKU lends after 3 days (BNU patron)
    # 5. article: cancelled by the patron (RUC)
    # 6. article opened after the period (not counted)
    r1 = service.open_request(session, patron, article_draft(doi="10.1000/1"), now=NOW).request
    desk.supply_copy(
        session, r1.ticket, Actor.centre("c"), now=NOW + day, link="https://example.org/1"
    )
    r2 = service.open_request(session, patron, article_draft(doi="10.1000/2"), now=NOW).request
    desk.reject(
        session, r2.ticket, Actor.centre("c"), reason=ReasonUnfilled.NOT_ON_SHELF, now=NOW + day / 2
    )
    desk.supply_copy(
        session,
        r2.ticket,
        Actor.centre("c"),
        now=NOW + 2 * day + day / 2,
        link="https://example.org/2",
    )
    r3 = service.open_request(
        session, other_patron, article_draft(doi="10.1000/3"), now=NOW
    ).request
    routing.advance_overdue(session, NOW + 3 * day)
    routing.advance_overdue(session, NOW + 6 * day)
    r4 = service.open_request(session, other_patron, book_draft(), now=NOW).request
    desk.ship_loan(session, r4.ticket, Actor.centre("c"), now=NOW + 3 * day)
    r5 = service.open_request(session, patron, article_draft(doi="10.1000/5"), now=NOW).request
    service.cancel_own_request(session, patron.id, r5.ticket, now=NOW + day)
    service.open_request(session, patron, article_draft(doi="10.1000/6"), now=NOW + 40 * day)
    session.flush()
    return r1, r2, r3, r4, r5


def test_totals_count_each_request_once_with_completion_days(session, month):
    report = metrics.delivery_report(session, date(2026, 3, 1), date(2026, 3, 31))
    t = report.total
    assert (t.requests, t.satisfied, t.rejected, t.cancelled, t.open) == (5, 3, 1, 1, 0)
    assert t.fill_rate == pytest.approx(3 / 4)  # cancelled requests have no outcome
    assert t.average_days == pytest.approx((1 + 2.5 + 3) / 3)
    assert t.median_days == pytest.approx(2.5)


def test_lenders_report_received_satisfied_rejected_and_days(session, month):
    r1, r2, r3, r4, r5 = month
    report = metrics.delivery_report(session, date(2026, 3, 1), date(2026, 3, 31), language="en")
    rows = {row.code: row for row in report.by_lender}
    received = sum(row.requests for row in rows.values())
    # r1 1, r2 2, r3 2 (both lapsed), r4 1, r5 1 (withdrawn when cancelled)
    assert received == 7
    assert sum(r.satisfied for r in rows.values()) == 3
    assert sum(r.rejected for r in rows.values()) == 1
    assert sum(r.no_answer for r in rows.values()) == 2
    assert sum(r.cancelled for r in rows.values()) == 1
    pku = rows["PKU"]
    assert pku.name == "Peking University Library"
    assert pku.fill_rate == pytest.approx(pku.satisfied / (pku.requests - pku.cancelled - pku.open))


def test_requesting_libraries_and_subjects(session, month):
    report = metrics.delivery_report(session, date(2026, 3, 1), date(2026, 3, 31))
    sent = {
        row.code: (row.requests, row.satisfied, row.rejected, row.cancelled)
        for row in report.by_requesting_library
    }
    assert sent == {"RUC": (3, 2, 0, 1), "BNU": (2, 1, 1, 0)}
    subjects = {row.code: (row.name, row.requests, row.satisfied) for row in report.by_subject}
    assert subjects == {"G": ("文化、科学、教育、体育", 4, 2), "I": ("文学", 1, 1)}


def test_the_period_is_inclusive_and_checked(session, month):
    assert metrics.delivery_report(session, date(2026, 3, 2), date(2026, 3, 2)).total.requests == 5
    assert metrics.delivery_report(session, date(2026, 3, 3), date(2026, 4, 30)).total.requests == 1
    with pytest.raises(ValueError, match="ends .* before it starts"):
        metrics.delivery_report(session, date(2026, 3, 31), date(2026, 3, 1))


def test_csv_export_in_both_languages(session, month):
    report = metrics.delivery_report(session, date(2026, 3, 1), date(2026, 3, 31))
    text = metrics.report_csv(report, "zh")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["类别", "代码", "名称", "请求数"]
    assert rows[1][:6] == ["合计", "*", "合计", "5", "3", "1"]
    assert rows[1][10:] == ["0.750", "2.17", "2.50"]
    assert {r[0] for r in rows[1:]} == {"合计", "提供馆（接收）", "申请馆（发送）", "学科"}
    english = list(csv.reader(io.StringIO(metrics.report_csv(report, "en").lstrip("\ufeff"))))
    assert english[0][-3:] == ["fill rate", "average days", "median days"]
    assert len(english) == len(rows)
    assert report.as_dict()["total"]["fill_rate"] == pytest.approx(0.75)
