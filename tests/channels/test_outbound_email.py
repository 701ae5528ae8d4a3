"""E-mail as an outbound channel: the worker in-process with the Telegram, web and e-mail
senders, against a real local SMTP server (aiosmtpd) that can be told to refuse, defer
or hang. A patron with an e-mail address and no chat that can reach them gets replies by
mail, once; Telegram stays first when the patron has it."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller

from bot.channels.telegram.channel import build_application
from bot.channels.telegram.sender import TelegramSender
from bot.db import Database
from bot.hub import Hub
from bot.outbound.email import EmailSender
from bot.outbound.web import WebSender
from bot.outbound.worker import Worker
from kb.outbound import OutboundStatus
from kb.patrons.models import Patron
from tests.channels.conftest import channel_settings, until
from tests.channels.test_outbound_worker import Rig
from tests.fixtures.fake_telegram import FakeTelegram
from tests.support.stack import free_port


@dataclass
class Inbox:
    """Accepts mail, or answers what ``script`` says for a recipient ("451 …", "hang")."""

    messages: list[tuple[list[str], email.message.EmailMessage]] = field(default_factory=list)
    script: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(self, server, session, envelope, address, options):  # type: ignore[no-untyped-def]  # noqa: N802
        answer = self.script.get(address)
        if answer and answer.startswith(("4", "5")):
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        if any(self.script.get(r) == "hang" for r in envelope.rcpt_tos):
            await asyncio.sleep(5)  # the message arrived; the answer comes too late
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for rcpts, m in self.messages if address in rcpts]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
async def rig(fake_tg: FakeTelegram, db_url: str, smtp: tuple[Inbox, int]) -> AsyncIterator[Rig]:
    _, port = smtp
    settings = channel_settings(
        db_url,
        fake_tg,
        outbound_max_attempts=3,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="desk@lib.example.org",
        smtp_starttls=False,
        smtp_timeout_seconds=2.0,
    )
    db = Database(db_url)
    bot = build_application(settings, polling=False).bot
    await bot.initialize()
    hub = Hub()
    senders = [TelegramSender(bot), WebSender(hub), EmailSender(settings)]
    worker = Worker(settings, db, senders, worker_id="mail-test")
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    yield Rig(fake_tg, db, worker, hub)
    stop.set()
    await asyncio.wait_for(task, 15)
    await bot.shutdown()


def _with_email(rig: Rig, address: str, *channels: tuple[str, str]) -> int:
    patron_id = rig.patron(*channels)

    def set_email(session):  # type: ignore[no-untyped-def]
        session.get(Patron, patron_id).email = address

    rig.db.run_sync(set_email)
    return patron_id


async def test_a_web_patron_with_no_tab_open_gets_the_answer_by_email_once(rig, smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, _ = smtp
    patron = _with_email(rig, "reader@example.com", ("web", "session-mail-1"))
    answer = "Q-000042: 您问的《宋史》在三楼古籍阅览室，索书号 K244.05/1。"
    mid = rig.push(
        patron,
        answer,
        kind="reference_answer",
        buttons=[{"title": "谢谢", "payload": "/thanks"}],
        extra={"links": ["https://lib.example.org/record/42"]},
    )
    row = await rig.settled(mid)
    assert row.status == OutboundStatus.SENT and row.sent_channel == "email"
    (message,) = inbox.to("reader@example.com")
    assert message["From"] == "desk@lib.example.org"
    assert row.channel_message_id == message["Message-ID"]
    body = message.get_content()
    assert answer in body and "https://lib.example.org/record/42" in body
    assert "谢谢" not in body  # a button cannot be answered from a mail client
    await asyncio.sleep(1.0)
    assert len(inbox.to("reader@example.com")) == 1


async def test_telegram_stays_first_and_stop_is_not_overridden_by_email(rig, smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, _ = smtp
    both = _with_email(rig, "both@example.com", ("telegram", "7101"))
    row = await rig.settled(rig.push(both, "DD-000001 is ready"))
    assert row.sent_channel == "telegram" and inbox.to("both@example.com") == []

    def stop_pushes(session):  # type: ignore[no-untyped-def]
        from kb.patrons import identity_for

        identity_for(session, "telegram", "7101").push_enabled = False

    rig.db.run_sync(stop_pushes)
    row = await rig.settled(rig.push(both, "DD-000002 is ready"))
    assert row.status == OutboundStatus.DEAD and "/stop" in (row.last_error or "")
    assert inbox.to("both@example.com") == []


async def test_alerts_insisting_on_email_keep_their_unsubscribe_headers(rig, smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, _ = smtp
    patron = _with_email(rig, "alerts@example.com", ("telegram", "7102"))
    unsubscribe = "<https://desk.example.org/alerts/unsubscribe/abc>"
    mid = rig.push(
        patron,
        "主题通报：人工智能（TP18）有 1 条新内容",
        kind="alert",
        channel="email",
        extra={
            "email": {
                "subject": "主题通报：人工智能",
                "headers": {
                    "List-Unsubscribe": unsubscribe,
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
            }
        },
    )
    row = await rig.settled(mid)
    assert row.sent_channel == "email" and rig.fake.sent(7102) == []
    (message,) = inbox.to("alerts@example.com")
    assert message["Subject"] == "主题通报：人工智能"
    assert message["List-Unsubscribe"] == unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # An e-mail-only message for a patron without an address is a dead letter that says so.
    nobody = rig.patron(("telegram", "7103"))
    dead = await rig.settled(rig.push(nobody, "x", kind="alert", channel="email"))
    assert (
        dead.status == OutboundStatus.DEAD and dead.last_error == "the patron has no e-mail address"
    )


async def test_smtp_failures_retry_refuse_or_wait_for_staff(rig, smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, _ = smtp
    inbox.script["later@example.com"] = "451 4.7.1 greylisted, try again later"
    inbox.script["nobody@example.com"] = "550 5.1.1 no such user"
    inbox.script["slow@example.com"] = "hang"
    later = _with_email(rig, "later@example.com", ("web", "s-later"))
    nobody = _with_email(rig, "nobody@example.com", ("web", "s-nobody"))
    slow = _with_email(rig, "slow@example.com", ("web", "s-slow"))

    # 451: queued again with backoff, without a message; once the server takes it, once.
    deferred = rig.push(later, "answer for later")
    await until(lambda: rig.row(deferred).attempts >= 1)
    row = rig.row(deferred)
    assert row.status == OutboundStatus.QUEUED and "451" in (row.last_error or "")
    assert inbox.to("later@example.com") == []
    inbox.script.pop("later@example.com")
    row = await rig.settled(deferred, timeout=20)
    assert row.status == OutboundStatus.SENT
    assert len(inbox.to("later@example.com")) == 1

    row = await rig.settled(rig.push(nobody, "answer for nobody"))
    assert row.status == OutboundStatus.DEAD and "550" in (row.last_error or "")
    # A timeout after the message went out: it may have arrived, so it is never resent.
    hung = rig.push(slow, "answer for slow")
    row = await rig.settled(hung, timeout=20)
    assert row.status == OutboundStatus.UNCERTAIN and row.sent_channel == "email"
    await asyncio.sleep(3)  # nothing tries it again: staff decide (refdesk outbound requeue)
    assert rig.row(hung).status == OutboundStatus.UNCERTAIN and rig.row(hung).attempts <= 1
    assert len(inbox.to("slow@example.com")) <= 1
    assert len(inbox.to("later@example.com")) == 1
