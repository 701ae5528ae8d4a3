"""The librarian side: lenders answer, supply files or links, ship loans; queues and downloads."""

from __future__ import annotations

import io
import os
from datetime import timedelta

import pytest
from sqlalchemy.orm.exc import StaleDataError

from kb.db import sessionmaker_for
from kb.delivery import desk, files, routing, service
from kb.delivery.desk import Actor, NotYourRequest, SupplyRefused
from kb.delivery.files import DownloadRefused
from kb.delivery.models import DeliveryRequest
from kb.delivery.states import Status
from kb.delivery.transitions import TransitionRefused
from kb.settings import get_settings

from .conftest import NOW, article_draft, book_draft, hold

PDF = b"%PDF-1.4\n" + b"scanned article " * 4000


@pytest.fixture
def sent(session, catalog, patron):
    hold(catalog.journal, "PKU")
    hold(catalog.journal, "THU")
    request = service.open_request(session, patron, article_draft(), now=NOW).request
    return request


def test_a_lender_acts_only_on_requests_that_are_with_it(session, sent, backend):
    other = "THU" if sent.current_lender == "PKU" else "PKU"
    with pytest.raises(NotYourRequest, match=f"is with {sent.current_lender}, not with {other}"):
        desk.accept(session, sent.ticket, Actor.lender("zhang", other), now=NOW)
    # The delivery centre may act for any lender.
    desk.accept(session, sent.ticket, Actor.centre("chen"), now=NOW)
    assert sent.status is Status.WILL_SUPPLY
    with pytest.raises(desk.RequestNotFound):
        desk.accept(session, "DD-2026-999999", Actor.centre("chen"), now=NOW)


def test_lender_queue_lists_what_is_with_it_most_urgent_first(session, catalog, patron, backend):
    hold(catalog.journal, "PKU")
    a = service.open_request(session, patron, article_draft(doi="10.1000/a"), now=NOW).request
    b = service.open_request(
        session, patron, article_draft(doi="10.1000/b"), now=NOW - timedelta(days=1)
    ).request
    desk.accept(session, a.ticket, Actor.lender("li", "PKU"), now=NOW)  # supply due in 5 days
    assert desk.lender_queue(session, "PKU") == [b, a]
    assert desk.lender_queue(session, "THU") == []


def test_supplying_a_file_gives_an_expiring_download_link(session, sent, backend):
    lender = Actor.lender("li", sent.current_lender)
    desk.acknowledge(session, sent.ticket, lender, now=NOW)
    supplied = desk.supply_copy(
        session,
        sent.ticket,
        lender,
        now=NOW + timedelta(days=1),
        filename="../../扫描件 2019(3).pdf",
        content=io.BytesIO(PDF),
    )
    assert sent.status is Status.COPY_COMPLETED and sent.supplied_at == NOW + timedelta(days=1)
    stored = supplied.file
    assert (stored.filename, stored.content_type, stored.size) == (
        "扫描件 2019(3).pdf",
        "application/pdf",
        len(PDF),
    )
    assert stored.expires_at == NOW + timedelta(days=15)
    download = files.resolve_download(session, supplied.download_token, NOW + timedelta(days=2))
    assert download.path.read_bytes() == PDF
    assert download.path.parent == get_settings().delivery_dir
    assert (
        supplied.download_token not in files.download_url(stored).split("/")[2]
    )  # not in the host
    with pytest.raises(DownloadRefused, match="expired"):
        files.resolve_download(
            session, supplied.download_token, NOW + timedelta(days=15, seconds=1)
        )


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"),  # signature
        lambda t: ".".join(
            [t.split(".")[0], str(int(t.split(".")[1]) + 86400 * 365), t.split(".")[2]]
        ),  # expiry
        lambda t: "x" + t,  # file id
        lambda t: "not-a-token",
    ],
)
def test_forged_download_tokens_are_refused(session, sent, tamper, backend):
    supplied = desk.supply_copy(
        session, sent.ticket, Actor.centre("chen"), now=NOW, filename="a.pdf", content=PDF
    )
    with pytest.raises(DownloadRefused) as refused:
        files.resolve_download(session, tamper(supplied.download_token), NOW)
    assert refused.value.code in ("bad_signature", "malformed")


def test_expired_copies_are_purged_and_closed(session, sent, backend):
    supplied = desk.supply_copy(
        session, sent.ticket, Actor.centre("chen"), now=NOW, filename="a.pdf", content=PDF
    )
    path = files.resolve_download(session, supplied.download_token, NOW).path
    assert files.purge_expired(session, NOW + timedelta(days=13)) == 0
    assert files.purge_expired(session, NOW + timedelta(days=14)) == 1
    assert not path.exists() and supplied.file.purged_at == NOW + timedelta(days=14)
    with pytest.raises(DownloadRefused, match="gone"):
        files.extend_download(supplied.file, NOW + timedelta(days=14))
    assert desk.close_delivered_copies(session, NOW + timedelta(days=14)) == [sent]
    assert sent.status is Status.COMPLETED


def test_an_expired_link_can_be_reopened_before_the_purge(session, sent, backend):
    supplied = desk.supply_copy(
        session, sent.ticket, Actor.centre("chen"), now=NOW, filename="a.pdf", content=PDF
    )
    later = NOW + timedelta(days=20)
    token = files.extend_download(supplied.file, later, days=3)
    assert files.resolve_download(session, token, later).size == len(PDF)
    with pytest.raises(DownloadRefused, match="expired"):  # the old link stays dead
        files.resolve_download(session, supplied.download_token, later)


def test_supply_needs_exactly_one_of_file_or_link_and_a_real_file(session, sent, backend):
    lender = Actor.centre("chen")
    with pytest.raises(SupplyRefused, match="either a file or a link"):
        desk.supply_copy(session, sent.ticket, lender, now=NOW)
    with pytest.raises(SupplyRefused, match="not an http"):
        desk.supply_copy(session, sent.ticket, lender, now=NOW, link="ftp://example.org/a.pdf")
    with pytest.raises(files.FileRefused, match="empty"):
        desk.supply_copy(session, sent.ticket, lender, now=NOW, filename="a.pdf", content=b"")
    assert sent.status is Status.SENT and sent.files == []
    assert list(get_settings().delivery_dir.iterdir()) == []  # nothing half-written left behind


def test_a_file_over_the_limit_is_refused(session, sent, monkeypatch):
    monkeypatch.setenv("REFDESK_DELIVERY_MAX_FILE_BYTES", "1000")
    get_settings.cache_clear()
    with pytest.raises(files.FileRefused, match="larger than"):
        desk.supply_copy(
            session, sent.ticket, Actor.centre("chen"), now=NOW, filename="a.pdf", content=PDF
        )
    assert list(get_settings().delivery_dir.iterdir()) == []


def test_a_link_can_be_supplied_instead_of_a_file(session, sent, backend):
    supplied = desk.supply_copy(
        session,
        sent.ticket,
        Actor.lender("li", sent.current_lender),
        now=NOW,
        link=" https://repository.example.edu/a.pdf ",
    )
    assert supplied.file is None and supplied.download_token is None
    assert sent.supplied_link == "https://repository.example.edu/a.pdf"


def test_a_loan_is_shipped_then_closed_when_it_comes_back(session, catalog, patron, backend):
    hold(catalog.three_body, "PKU")
    request = service.open_request(session, patron, book_draft(), now=NOW).request
    pku = Actor.lender("li", "PKU")
    desk.accept(session, request.ticket, pku, now=NOW)
    desk.ship_loan(session, request.ticket, pku, now=NOW + timedelta(days=2), note="快递单号 SF123")
    assert request.status is Status.LOANED and request.current_lender == "PKU"
    assert desk.awaiting_completion(session, "PKU") == [request]
    with pytest.raises(TransitionRefused, match="cannot be done by a supplier"):
        desk.complete(session, request.ticket, pku, now=NOW + timedelta(days=30))
    desk.complete(session, request.ticket, Actor.centre("chen"), now=NOW + timedelta(days=30))
    assert request.status is Status.COMPLETED and request.completion_days == 2


def test_refused_actions_change_nothing(session, sent, backend):
    lender = Actor.lender("li", sent.current_lender)
    desk.supply_copy(session, sent.ticket, lender, now=NOW, link="https://example.org/a.pdf")
    events = len(sent.events)
    with pytest.raises(TransitionRefused, match="'copy_completed'.*'unfilled'"):
        desk.reject(session, sent.ticket, Actor.centre("chen"), reason="NotHeld", now=NOW)
    assert sent.status is Status.COPY_COMPLETED and len(sent.events) == events
    assert routing.current_entry(sent) is None


def test_a_stale_copy_of_a_request_cannot_overwrite_a_newer_answer(session, db_url, sent, backend):
    session.commit()
    other = sessionmaker_for(db_url)()
    try:
        stale = other.get(DeliveryRequest, sent.id)  # read before the lender answers
        desk.accept(session, sent.ticket, Actor.lender("li", sent.current_lender), now=NOW)
        session.commit()
        stale.status = Status.CANCELLED
        with pytest.raises(StaleDataError):
            other.flush()
        other.rollback()
    finally:
        other.close()
    session.refresh(sent)
    assert sent.status is Status.WILL_SUPPLY


def test_bytes_of_an_upload_that_was_rolled_back_are_swept(session, sent, backend):
    desk.supply_copy(
        session, sent.ticket, Actor.centre("chen"), now=NOW, filename="a.pdf", content=PDF
    )
    session.rollback()  # e.g. the gateway failed after the bytes were written
    orphans = list(get_settings().delivery_dir.iterdir())
    assert len(orphans) == 1
    day_old = (NOW - timedelta(days=2)).timestamp()
    os.utime(orphans[0], (day_old, day_old))
    files.purge_expired(session, NOW)
    assert list(get_settings().delivery_dir.iterdir()) == []
