"""E-mail alerts reach a real (local) SMTP server through the outbound worker's e-mail
sender, with List-Unsubscribe and List-Unsubscribe-Post: List-Unsubscribe=One-Click; a
server that is down leaves the message queued for a retry. Only a patron who consented
gets the open-tracking image; fetching it from a gateway process over HTTP counts the
message as opened once."""

from __future__ import annotations

import email
import email.policy
import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.outbound.email import EmailSender
from bot.outbound.worker import Worker
from kb.alerts import consent
from kb.alerts.dispatch import queue_due
from kb.alerts.engagement import figures
from kb.alerts.models import AlertOpen
from kb.outbound.models import OutboundMessage, OutboundStatus
from kb.settings import Settings, get_settings
from tests.console.conftest import Gateways
from tests.kb.alerts.conftest import bib, import_records, subscribe
from tests.support.stack import free_port


async def deliver_queued(settings: Settings) -> int:
    """One pass of the outbound worker with only the e-mail sender: how many were sent."""
    worker = Worker(settings, Database(settings.database_url), [EmailSender(settings)])
    await worker.round()
    await worker.drain()
    return worker.counts["sent"]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"


@pytest.fixture
def smtp(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    for name, value in {
        "DATABASE_URL": db_url,
        "PUBLIC_URL": "https://desk.example.org",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_FROM": "alerts@lib.example.org",
        "SMTP_STARTTLS": "false",
    }.items():
        monkeypatch.setenv(f"REFDESK_{name}", value)
    get_settings.cache_clear()
    yield inbox
    controller.stop()


async def test_an_email_alert_carries_one_click_unsubscribe_headers(
    session: Session, libraries: None, smtp: Inbox
) -> None:
    sub = subscribe(session, "人工智能", channel="email", email="reader@example.com")
    import_records(session, [bib("r1", "人工智能：一种现代方法", clc="TP18")])
    assert queue_due(session) == 1
    assert await deliver_queued(get_settings()) == 1
    [(sender, recipients, message)] = smtp.messages
    assert sender == "alerts@lib.example.org" and recipients == ["reader@example.com"]
    assert message["Subject"].startswith("主题通报：")
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith(
        "<https://desk.example.org/alerts/unsubscribe/"
    ) and unsubscribe.endswith(">")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    plain, html = _parts(message)
    assert "人工智能：一种现代方法" in plain and "人工智能：一种现代方法" in html
    session.expire_all()
    row = session.scalar(select(OutboundMessage).where(OutboundMessage.patron_id == sub.patron_id))
    assert row is not None and row.status == OutboundStatus.SENT and row.sent_channel == "email"
    assert await deliver_queued(get_settings()) == 0  # sent once


async def test_a_server_that_is_down_leaves_the_alert_queued_for_later(
    session: Session, libraries: None, smtp: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = subscribe(session, "宋史", language="en", channel="email", email="reader@example.com")
    import_records(session, [bib("r1", "Song China", clc="K244")])
    queue_due(session)
    monkeypatch.setenv("REFDESK_SMTP_PORT", str(free_port()))  # nobody listens there
    get_settings.cache_clear()
    assert await deliver_queued(get_settings()) == 0
    session.expire_all()
    row = session.scalar(select(OutboundMessage).where(OutboundMessage.patron_id == sub.patron_id))
    assert row is not None and row.status == OutboundStatus.QUEUED and row.attempts == 1
    assert row.not_before > row.created_at  # backed off
    assert row.last_error and row.last_error.startswith("email:")
    assert smtp.messages == []


_IMAGE = re.compile(r'<img src="(https://desk\.example\.org/alerts/o/[^"]+)" width="1" height="1"')


def _parts(message: email.message.EmailMessage) -> tuple[str, str]:
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


async def test_only_with_consent_an_email_alert_carries_an_image_that_counts_one_open(
    session: Session, libraries: None, smtp: Inbox, db_url: str
) -> None:
    tracked = subscribe(session, "人工智能", channel="email", email="yes@example.com")
    subscribe(session, "人工智能", channel="email", email="no@example.com")  # no consent
    consent.record(session, tracked.patron_id, True, source="chat")
    session.commit()
    import_records(
        session,
        [bib("r1", "人工智能导论", clc="TP18", links=[{"url": "https://example.org/ai"}])],
    )
    assert queue_due(session) == 2
    assert await deliver_queued(get_settings()) == 2
    mail = {recipients[0]: message for _, recipients, message in smtp.messages}

    # Without consent: an HTML part (links clickable), no image, links straight to the item.
    plain, html = _parts(mail["no@example.com"])
    assert "<img" not in html and "/alerts/o/" not in html + plain
    assert '<a href="https://example.org/ai">' in html and "人工智能导论" in html
    # With consent: the tracked link, and the 1x1 image last in the HTML part only.
    plain, html = _parts(mail["yes@example.com"])
    assert "/alerts/r/" in html and "/alerts/o/" not in plain
    found = _IMAGE.search(html)
    assert found is not None and html.rstrip().endswith("</body></html>")
    image_path = found.group(1).replace("https://desk.example.org", "")

    gateway = Gateways(
        Path(os.environ["REFDESK_HOME"]),
        {
            "REFDESK_HOME": os.environ["REFDESK_HOME"],
            "REFDESK_DATABASE_URL": db_url,
            "REFDESK_ENGINE_PORT": str(free_port()),  # no engine needed here
            "REFDESK_PUBLIC_URL": "https://desk.example.org",
        },
    )
    url = gateway.start()
    try:
        fetched = [httpx.get(url + image_path) for _ in range(3)]  # reopened, reloaded
        changed = image_path[:-6] + ("A" if image_path[-6] != "A" else "B") + image_path[-5:]
        garbled = [httpx.get(url + changed), httpx.get(url + "/alerts/o/nonsense")]
    finally:
        gateway.stop()
    for answer in fetched + garbled:
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/gif"
        assert answer.content.startswith(b"GIF89a") and answer.content.endswith(b";")
        assert answer.content[6:10] == b"\x01\x00\x01\x00"  # 1 x 1
        assert "no-store" in answer.headers["cache-control"]
        assert answer.headers["pragma"] == "no-cache"

    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AlertOpen)) == 1
    row = next(r for r in figures(session)["topics"] if r["topic"] == "TP18")
    # One delivery opened, of one e-mailed to a patron whose consent covers opens.
    assert row["opens"] == 1 and row["emailed_consenting"] == 1 and row["open_rate"] == 1.0
    assert row["clicks"] == 0 and row["queued"] == 2
