"""The console's document-delivery pages over real HTTP: queue, request page, moves, report.

One gateway process; each test opens its own requests, and searches the queue by
ticket, so tests do not depend on each other's requests.
"""

from __future__ import annotations

import re

import httpx

from tests.console.conftest import DeliveryDesk, Librarian
from tests.kb.delivery.conftest import article_draft, book_draft

PDF = b"%PDF-1.4 a scanned article\n" * 50


def signed_in(desk: DeliveryDesk, username: str, lang: str = "en") -> Librarian:
    lib = Librarian(desk.url, username)
    assert lib.login_status == 303
    lib.http.get(f"/console/delivery?lang={lang}")  # remembered in a cookie
    return lib


def form(lib: Librarian, ticket: str, action: str, **fields: str) -> httpx.Response:
    return lib.http.post(f"/console/delivery/{ticket}/{action}", data={"csrf": lib.csrf, **fields})


def queue_rows(page: str) -> list[str]:
    return re.findall(r'<tr data-ticket="([^"]+)"', page)


def tab_count(page: str, tab: str) -> int:
    match = re.search(rf'data-tab="{tab}"[^>]*>[^<]*<span class="count">(\d+)</span>', page)
    assert match, page
    return int(match.group(1))


def buttons(page: str) -> list[str]:
    return re.findall(r'class="dd-action" data-action="([^"]+)"', page)


def test_the_queue_shows_only_the_librarians_library_with_counts_per_tab(
    delivery_desk: DeliveryDesk,
) -> None:
    article = delivery_desk.open(article_draft(doi="10.1000/queue-1"))  # only PKU holds it
    pku, thu = signed_in(delivery_desk, "li.pku"), signed_in(delivery_desk, "wang.thu")

    page = pku.http.get("/console/delivery").text
    assert "Delivery queue of PKU" in page
    assert article in queue_rows(page)
    assert article not in queue_rows(thu.http.get("/console/delivery").text)

    # Search by ticket: the counts follow it (one new request, nothing anywhere else).
    found = pku.http.get("/console/delivery", params={"q": article}).text
    assert queue_rows(found) == [article]
    assert tab_count(found, "new") == 1
    assert tab_count(found, "awaiting_supply") == 0
    assert tab_count(found, "done") == 0
    # ... also by a fragment of the number
    assert article in queue_rows(pku.http.get("/console/delivery", params={"q": article[-6:]}).text)

    # Accepted, it moves from "new" to "awaiting supply".
    assert form(pku, article, "accept").status_code == 303
    moved = pku.http.get("/console/delivery", params={"q": article, "tab": "new"}).text
    assert tab_count(moved, "new") == 0 and tab_count(moved, "awaiting_supply") == 1
    assert queue_rows(moved) == []
    waiting = pku.http.get(
        "/console/delivery", params={"q": article, "tab": "awaiting_supply"}
    ).text
    assert queue_rows(waiting) == [article]

    # Both languages.
    zh = pku.http.get("/console/delivery?lang=zh").text
    assert "新请求" in zh and "待提供" in zh and "已逾期" in zh


def test_the_queue_sorts_by_need_before_date_or_by_age(delivery_desk: DeliveryDesk) -> None:
    from dataclasses import replace
    from datetime import date

    late = delivery_desk.open(replace(article_draft(doi="10.1000/sort-1"), need_before=None))
    soon = delivery_desk.open(
        replace(article_draft(doi="10.1000/sort-2"), need_before=date(2030, 1, 5))
    )
    pku = signed_in(delivery_desk, "li.pku")
    by_need = queue_rows(pku.http.get("/console/delivery?sort=need_before").text)
    assert by_need.index(soon) < by_need.index(late)  # no date goes last
    by_age = queue_rows(pku.http.get("/console/delivery?sort=age").text)
    assert by_age.index(late) < by_age.index(soon)  # the older first


def test_a_copy_is_accepted_supplied_by_upload_and_completed_with_the_audit_trail(
    delivery_desk: DeliveryDesk,
) -> None:
    ticket = delivery_desk.open(article_draft(doi="10.1000/supply-1"))
    pku, centre = signed_in(delivery_desk, "li.pku"), signed_in(delivery_desk, "zhao.dc")

    page = pku.http.get(f"/console/delivery/{ticket}")
    assert page.status_code == 200
    assert "基于深度学习的图书推荐研究" in page.text and "图书情报工作" in page.text
    # Exactly the moves the transition table allows a lender now: no cancel, no complete.
    assert buttons(page.text) == [
        "accept",
        "conditional",
        "supply",
        "ship-loan",
        "reject",
        "forward",
    ]

    accepted = form(pku, ticket, "accept", note="扫描中")
    assert accepted.status_code == 303
    assert accepted.headers["location"] == f"/console/delivery/{ticket}?done=accept"
    assert delivery_desk.status(ticket) == "will_supply"
    after = pku.http.get(accepted.headers["location"]).text
    assert "Done: Accept (will supply)" in after
    assert 'data-event="will_supply"' in after and "扫描中" in after  # the trail: who, why

    supplied = pku.http.post(
        f"/console/delivery/{ticket}/supply",
        data={"csrf": pku.csrf, "note": "12 pages"},
        files={"file": ("推荐研究.pdf", PDF, "application/pdf")},
    )
    assert supplied.status_code == 303, supplied.text
    assert delivery_desk.status(ticket) == "copy_completed"
    detail = pku.http.get(f"/console/delivery/{ticket}").text
    assert "推荐研究.pdf" in detail and 'data-state="filled"' in detail

    # The patron's notice carries the expiring download link, which gives the bytes.
    notices = delivery_desk.notices(ticket)
    assert [n["event"] for n in notices] == ["will_supply", "supply_copy"]
    link = re.search(r"http://\S+/delivery/files/\S+", notices[1]["text"])
    assert link, notices[1]["text"]
    assert httpx.get(link.group(0).rstrip("。.")).content == PDF

    # Only the centre may complete (a lender gets no button for it).
    assert "complete" not in buttons(detail)
    assert buttons(centre.http.get(f"/console/delivery/{ticket}").text) == ["complete"]
    assert form(centre, ticket, "complete").status_code == 303
    assert delivery_desk.status(ticket) == "completed"

    rows = delivery_desk.audit(ticket)
    moves = [(who, action, outcome) for who, action, outcome, _ in rows if outcome == 200]
    assert ("li.pku", "delivery.accept", 200) in moves
    assert ("li.pku", "delivery.supply", 200) in moves
    assert ("zhao.dc", "delivery.complete", 200) in moves


def test_a_rejection_with_an_iso_reason_moves_the_request_to_the_next_lender(
    delivery_desk: DeliveryDesk,
) -> None:
    ticket = delivery_desk.open(book_draft())  # PKU first, then THU
    pku, thu = signed_in(delivery_desk, "li.pku"), signed_in(delivery_desk, "wang.thu")
    page = pku.http.get(f"/console/delivery/{ticket}").text
    assert 'value="NotOnShelf"' in page and 'value="NoAnswer"' not in page

    done = form(pku, ticket, "reject", reason="NotOnShelf", note="在装订")
    assert done.status_code == 303
    # It is THU's now, so PKU lands back on its queue with a word about it.
    assert done.headers["location"].startswith("/console/delivery?done=reject")
    back = pku.http.get(done.headers["location"]).text
    assert f"{ticket} has gone on to the next lender" in back
    assert ticket in queue_rows(pku.http.get("/console/delivery?tab=done").text)

    assert ticket in queue_rows(thu.http.get("/console/delivery").text)
    detail = thu.http.get(f"/console/delivery/{ticket}").text
    assert re.search(r'data-library="PKU" data-state="unfilled">.*NotOnShelf', detail)
    assert 'data-library="THU" data-state="sent"' in detail
    assert "在装订" in detail

    # An unknown reason is explained, and nothing moves.
    bad = form(thu, ticket, "reject", reason="Lost")
    assert bad.status_code == 400
    assert "unknown reason" in bad.text and "NotHeld" in bad.text
    assert delivery_desk.status(ticket) == "sent"

    # THU forwards; the rota is used up, so the request ends unfilled.
    assert form(thu, ticket, "forward", note="no copy").status_code == 303
    assert delivery_desk.status(ticket) == "unfilled"


def test_a_move_the_status_no_longer_allows_is_explained_not_a_500(
    delivery_desk: DeliveryDesk,
) -> None:
    ticket = delivery_desk.open(article_draft(doi="10.1000/stale-1"))
    first, second = signed_in(delivery_desk, "li.pku"), signed_in(delivery_desk, "li.pku")
    assert form(first, ticket, "accept").status_code == 303
    # The second tab still shows "accept": pressing it again is refused with the reason.
    again = form(second, ticket, "accept")
    assert again.status_code == 409
    assert "another librarian may have acted first" in again.text
    assert "is &#39;will_supply&#39;" in again.text or "is 'will_supply'" in again.text
    assert 'data-status="will_supply"' in again.text  # and where it stands now
    assert "accept" not in buttons(again.text) and "supply" in buttons(again.text)
    assert ("li.pku", "delivery.accept", 409) in [r[:3] for r in delivery_desk.audit(ticket)]

    # A supply with neither file nor link says so.
    empty = form(second, ticket, "supply")
    assert empty.status_code == 400 and "either a file or a link" in empty.text
    assert delivery_desk.status(ticket) == "will_supply"

    # A link works as well as a file.
    linked = form(second, ticket, "supply", link="https://repo.example.org/a.pdf")
    assert linked.status_code == 303
    assert delivery_desk.status(ticket) == "copy_completed"

    zh = signed_in(delivery_desk, "li.pku", lang="zh")
    refused = form(zh, ticket, "accept")
    assert refused.status_code == 409 and "可能其他馆员已先处理" in refused.text


def test_moves_need_the_csrf_token(delivery_desk: DeliveryDesk) -> None:
    ticket = delivery_desk.open(article_draft(doi="10.1000/csrf-1"))
    pku = signed_in(delivery_desk, "li.pku")
    missing = pku.http.post(f"/console/delivery/{ticket}/accept", data={})
    wrong = pku.http.post(f"/console/delivery/{ticket}/accept", data={"csrf": "x" * 32})
    cross = pku.http.post(
        f"/console/delivery/{ticket}/accept",
        data={"csrf": pku.csrf},
        headers={"Origin": "https://evil.example"},
    )
    assert [missing.status_code, wrong.status_code, cross.status_code] == [403, 403, 403]
    assert delivery_desk.status(ticket) == "sent"
    # Not signed in: the login page, not the request.
    anon = httpx.get(f"{delivery_desk.url}/console/delivery/{ticket}")
    assert anon.status_code == 303 and anon.headers["location"] == "/console/login"


def test_another_library_can_neither_see_nor_act(delivery_desk: DeliveryDesk) -> None:
    ticket = delivery_desk.open(article_draft(doi="10.1000/other-1"))
    thu = signed_in(delivery_desk, "wang.thu")
    page = thu.http.get(f"/console/delivery/{ticket}")
    assert page.status_code == 403
    assert "not with your library" in page.text and "reader@example.org" not in page.text
    act = form(thu, ticket, "accept")
    assert act.status_code == 403 and "not with your library" in act.text
    assert delivery_desk.status(ticket) == "sent"
    # Cancelling is the centre's, even for the library that has the request.
    pku = signed_in(delivery_desk, "li.pku")
    cancel = form(pku, ticket, "cancel")
    assert cancel.status_code == 403 and "Only delivery-centre staff" in cancel.text
    assert delivery_desk.status(ticket) == "sent"
    assert ("wang.thu", "delivery.accept", 403) in [r[:3] for r in delivery_desk.audit(ticket)]
    assert (
        "no request"
        in signed_in(delivery_desk, "li.pku").http.get("/console/delivery/DD-1999-000001").text
    )


def test_the_patron_contact_is_shown_on_request_and_the_view_is_audited(
    delivery_desk: DeliveryDesk,
) -> None:
    ticket = delivery_desk.open(article_draft(doi="10.1000/contact-1"))
    pku = signed_in(delivery_desk, "li.pku")
    page = pku.http.get(f"/console/delivery/{ticket}").text
    assert "reader@example.org" not in page and 'id="dd-show-contact"' in page
    assert delivery_desk.audit(ticket)[-1] == ("li.pku", "delivery.view", 200, "console")

    shown = pku.http.get(f"/console/delivery/{ticket}?contact=1").text
    assert "reader@example.org" in shown
    assert delivery_desk.audit(ticket)[-1] == ("li.pku", "delivery.view", 200, "contact_viewed")


def test_the_report_page_has_the_balis_shape_a_chart_and_the_csv(
    delivery_desk: DeliveryDesk,
) -> None:
    delivery_desk.open(article_draft(doi="10.1000/report-1"))
    pku = signed_in(delivery_desk, "li.pku")
    page = pku.http.get("/console/delivery/metrics")
    assert page.status_code == 200
    text = page.text
    for heading in ("Lenders (received)", "Requesting libraries (sent)", "By subject"):
        assert heading in text
    for column in ("Satisfied", "Rejected", "Forwarded", "Fill rate", "Mean days", "Median days"):
        assert column in text
    assert re.search(r'<table id="dd-by-lender">.*data-code="PKU"', text, re.S)
    assert '<svg class="chart" id="dd-chart"' in text and 'data-part="satisfied"' in text
    csv_link = re.search(r'id="dd-csv" href="([^"]+)"', text)
    assert csv_link
    csv = pku.http.get(csv_link.group(1).replace("&amp;", "&"))
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.startswith("\ufeffsection,code,name,requests,satisfied")
    assert "lender (received),PKU" in csv.text

    bad = pku.http.get("/console/delivery/metrics?from=2026-13-01")
    assert bad.status_code == 400 and "give a real date" in bad.text
    zh = pku.http.get("/console/delivery/metrics?lang=zh").text
    assert "提供馆（接收）" in zh and "满足率" in zh
