"""E-mail alerts reach a real (local) SMTP server through the outbound worker's e-mail
sender, with List-Unsubscribe and List-Unsubscribe-Post: List-Unsubscribe=One-Click; a
server that is down leaves the message queued for a retry."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.outbound.email import EmailSender
from bot.outbound.worker import Worker
from kb.alerts.dispatch import queue_due
from kb.outbound.models import OutboundMessage, OutboundStatus
from kb.settings import Settings, get_settings
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
    assert "人工智能：一种现代方法" in message.get_content()
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
