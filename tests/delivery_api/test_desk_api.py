"""The librarian API over real HTTP: queues, access per library, the whole lifecycle."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from kb.delivery.states import ServiceType
from tests.kb.delivery.conftest import article_draft, book_draft


def _outbound(desk, ticket):
    from kb.outbound.models import OutboundMessage
    from kb.outbound.service import body_of

    with desk.db() as session:
        messages = session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.dedupe_key.like(f"delivery:{ticket}:%"))
            .order_by(OutboundMessage.created_at)
        )
        return [body_of(m) for m in messages]


def test_copy_lifecycle_from_queue_to_download_to_completion(desk):
    ticket = desk.open(article_draft())
    lender, centre = desk.client("li.pku"), desk.client("zhao.centre")

    queue = lender.get("/api/delivery/queue").json()["requests"]
    line = next(r for r in queue if r["ticket"] == ticket)
    assert line["status"] == "sent" and "contact" not in line
    assert "will_supply" in line["allowed_events"]

    accepted = lender.post(f"/api/delivery/requests/{ticket}/accept", json={"note": "扫描中"})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "will_supply"

    pdf = b"%PDF-1.4 a scanned article\n" * 100
    supplied = lender.post(
        f"/api/delivery/requests/{ticket}/supply",
        files={"file": ("基于深度学习的图书推荐研究.pdf", pdf, "application/pdf")},
        data={"note": "12 pages"},
    )
    assert supplied.status_code == 200, supplied.text
    body = supplied.json()
    assert body["status"] == "copy_completed"
    assert body["download_url"].startswith(f"{desk.server.url}/delivery/files/")

    # The patron's download: the bytes, under the original (Chinese) name, not cached.
    with desk.client() as patron:
        download = patron.get(body["download_url"])
    assert download.status_code == 200
    assert download.content == pdf
    assert download.headers["content-type"] == "application/pdf"
    assert "filename*=utf-8''" in download.headers["content-disposition"].lower()
    assert "no-store" in download.headers["cache-control"]

    # The patron was told at each step that is news to them, in their language.
    notices = _outbound(desk, ticket)
    assert [n["event"] for n in notices] == ["will_supply", "supply_copy"]
    assert "提供馆已接受" in notices[0]["text"]
    assert body["download_url"] in notices[1]["text"]

    # The lender cannot close it (a supplier may not complete), the centre can.
    refused = lender.post(f"/api/delivery/requests/{ticket}/complete")
    assert refused.status_code == 409
    assert "cannot be done by a supplier" in refused.json()["message"]
    done = centre.post(f"/api/delivery/requests/{ticket}/complete")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"

    detail = centre.get(f"/api/delivery/requests/{ticket}").json()
    assert detail["contact"] == {"name": "王小明", "email": "reader@example.org", "phone": None}
    assert detail["citation"]["doi"] == "10.13266/j.issn.0252-3116.2019.03.002"
    assert [e["event"] for e in detail["events"]] == [
        "submit",
        "route",
        "will_supply",
        "supply_copy",
        "complete",
    ]
    assert detail["events"][2]["note"] == "扫描中"
    assert detail["rota"][0]["library_code"] == "PKU" and detail["rota"][0]["state"] == "filled"
    assert detail["files"][0]["size"] == len(pdf)

    trail = desk.audit(ticket=ticket)
    assert [(who, action, outcome) for who, action, _, outcome, _ in trail] == [
        ("li.pku", "delivery.accept", 200),
        ("li.pku", "delivery.supply", 200),
        ("li.pku", "delivery.complete", 409),
        ("zhao.centre", "delivery.complete", 200),
        ("zhao.centre", "delivery.view", 200),
    ]
    assert trail[-1][4] == "contact_viewed"
    for client in (lender, centre):
        client.close()


def test_another_library_can_neither_see_nor_answer_the_request(desk):
    ticket = desk.open(article_draft())
    with desk.client("wang.thu") as other:
        seen = other.get(f"/api/delivery/requests/{ticket}")
        answered = other.post(f"/api/delivery/requests/{ticket}/accept")
        queue = other.get("/api/delivery/queue", params={"library": "PKU"})
    assert seen.status_code == answered.status_code == 403
    assert answered.json()["message"] == f"request {ticket} is with PKU, not with THU"
    assert queue.status_code == 403
    assert [(a, o) for _, a, _, o, _ in desk.audit(ticket=ticket)] == [
        ("delivery.view", 403),
        ("delivery.accept", 403),
    ]


def test_a_rejection_moves_the_request_to_the_next_lender_until_none_is_left(desk):
    ticket = desk.open(book_draft(service=ServiceType.LOAN))
    with desk.client("li.pku") as pku, desk.client("wang.thu") as thu:
        bad = pku.post(f"/api/delivery/requests/{ticket}/reject", json={"reason": "busy"})
        assert bad.status_code == 400
        assert "NotHeld" in bad.json()["message"] and "'busy'" in bad.json()["message"]

        moved = pku.post(
            f"/api/delivery/requests/{ticket}/reject",
            json={"reason": "not_on_shelf", "note": "missing from the shelf"},
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == "sent" and moved.json()["current_lender"] == "THU"
        assert ticket not in [
            r["ticket"] for r in pku.get("/api/delivery/queue").json()["requests"]
        ]
        assert ticket in [r["ticket"] for r in thu.get("/api/delivery/queue").json()["requests"]]

        again = pku.post(f"/api/delivery/requests/{ticket}/accept")
        assert again.status_code == 403  # it left PKU

        ended = thu.post(
            f"/api/delivery/requests/{ticket}/reject", json={"reason": "PolicyProblem"}
        )
        assert ended.json()["status"] == "unfilled"

    notices = _outbound(desk, ticket)
    assert [n["event"] for n in notices] == ["unfilled"]  # lender-to-lender moves are not news
    assert "不在架上" in notices[0]["text"] and "受该馆规定限制" in notices[0]["text"]


def test_state_machine_refusals_are_409_and_unknown_tickets_404(desk):
    ticket = desk.open(article_draft())
    with desk.client("li.pku") as pku, desk.client("zhao.centre") as centre:
        shipped = pku.post(f"/api/delivery/requests/{ticket}/complete")
        assert shipped.status_code == 409
        assert shipped.json()["message"].startswith(f"request {ticket} is 'sent'")

        assert pku.post(f"/api/delivery/requests/{ticket}/accept").status_code == 200
        twice = pku.post(f"/api/delivery/requests/{ticket}/accept")
        assert twice.status_code == 409 and "allowed now" in twice.json()["message"]

        missing = centre.get("/api/delivery/requests/DD-1999-000042")
        assert missing.status_code == 404
        assert "DD-1999-000042" in missing.json()["message"]


def test_bad_input_is_answered_with_what_was_wrong(desk):
    ticket = desk.open(article_draft())
    with desk.client("li.pku") as pku:
        no_note = pku.post(f"/api/delivery/requests/{ticket}/conditional", json={})
        assert no_note.status_code == 422 and "note" in no_note.json()["message"]

        nothing = pku.post(f"/api/delivery/requests/{ticket}/supply", data={"note": "x"})
        assert nothing.status_code == 400
        assert "either a file or a link" in nothing.json()["message"]

        ftp = pku.post(f"/api/delivery/requests/{ticket}/supply", data={"link": "ftp://x/y.pdf"})
        assert ftp.status_code == 400 and "http(s)" in ftp.json()["message"]

        empty = pku.post(
            f"/api/delivery/requests/{ticket}/supply",
            files={"file": ("a.pdf", b"", "application/pdf")},
        )
        assert empty.status_code == 400 and "empty" in empty.json()["message"]

        offered = pku.post(
            f"/api/delivery/requests/{ticket}/conditional", json={"note": "费用 30 元"}
        )
        assert offered.json()["status"] == "conditional"
    assert "费用 30 元" in _outbound(desk, ticket)[0]["text"]


def test_a_copy_can_be_supplied_as_a_link(desk):
    ticket = desk.open(article_draft())
    with desk.client("li.pku") as pku:
        linked = pku.post(
            f"/api/delivery/requests/{ticket}/supply",
            data={"link": "https://repository.example.edu/a.pdf"},
        )
    assert linked.status_code == 200, linked.text
    assert linked.json()["status"] == "copy_completed" and "download_url" not in linked.json()
    assert "https://repository.example.edu/a.pdf" in _outbound(desk, ticket)[0]["text"]


def test_the_centre_works_the_unrouted_queue(desk):
    from kb.delivery.citations import Citation
    from kb.delivery.service import RequestDraft
    from kb.delivery.states import DeliveryMethod, Genre

    draft = RequestDraft(
        citation=Citation(genre=Genre.BOOK, title="不在联合目录里的书", isbn="9787020002207"),
        service_type=ServiceType.LOAN,
        delivery_method=DeliveryMethod.PICKUP,
        pickup_library="RUC",
    )
    ticket = desk.open(draft)
    with desk.client("li.pku") as pku, desk.client("zhao.centre") as centre:
        assert pku.get("/api/delivery/queue/unrouted").status_code == 403
        assert centre.get("/api/delivery/queue").status_code == 400  # which library?
        unrouted = centre.get("/api/delivery/queue/unrouted").json()["requests"]
        assert ticket in [r["ticket"] for r in unrouted]

        unknown = centre.post(f"/api/delivery/requests/{ticket}/route", json={"libraries": ["XYZ"]})
        assert unknown.status_code == 400 and "XYZ" in unknown.json()["message"]
        routed = centre.post(f"/api/delivery/requests/{ticket}/route", json={"libraries": ["BNU"]})
        assert routed.json()["current_lender"] == "BNU"
        assert ticket in [
            r["ticket"]
            for r in centre.get("/api/delivery/queue", params={"library": "BNU"}).json()["requests"]
        ]


def test_expired_and_tampered_download_links(desk):
    from kb.db import utcnow
    from kb.delivery import files
    from kb.delivery.models import SuppliedFile

    ticket = desk.open(article_draft())
    with desk.client("li.pku") as pku:
        url = pku.post(
            f"/api/delivery/requests/{ticket}/supply",
            files={"file": ("a.pdf", b"%PDF", "application/pdf")},
        ).json()["download_url"]
    token = url.rsplit("/", 1)[1]
    with desk.client() as patron:
        tampered = patron.get(f"/delivery/files/{token[:-1]}0", headers={"Accept-Language": "en"})
        assert tampered.status_code == 404
        assert tampered.text.index("No such file") < tampered.text.index("没有找到这个文件")

        with desk.db() as session:
            file = session.scalar(
                select(SuppliedFile).where(SuppliedFile.public_id == token.split(".")[0])
            )
            file.expires_at = utcnow() - timedelta(minutes=1)
            old = files.download_token(file)
        expired = patron.get(f"/delivery/files/{old}")
        assert expired.status_code == 410
        assert expired.text.index("下载链接已过期") < expired.text.index("has expired")
        assert patron.get(url).status_code == 410  # the first link is past its file's window too
