"""The outbound worker in-process: channel choice, rendering, pacing, retries, dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot import cli
from bot.channels.telegram.channel import build_application
from bot.channels.telegram.sender import TelegramSender
from bot.db import Database
from bot.hub import Hub
from bot.outbound import Outgoing, SendRetry
from bot.outbound.render import numbered, split_text
from bot.outbound.store import recover_expired
from bot.outbound.web import WebSender, tab_key
from bot.outbound.worker import Worker
from bot.replies import Button
from kb.conversations import conversation_for, find_conversation, recent_messages
from kb.db import utcnow
from kb.outbound import OutboundMessage, OutboundStatus, enqueue
from kb.patrons import identity_for
from kb.settings import get_settings
from tests.channels.conftest import channel_settings, until
from tests.fixtures.fake_telegram import FakeTelegram


@dataclass
class Rig:
    fake: FakeTelegram
    db: Database
    worker: Worker
    hub: Hub

    def patron(self, *channels: tuple[str, str]) -> int:
        """A patron with these (channel, external id) identities; returns the patron id."""

        def make(session):  # type: ignore[no-untyped-def]
            first = conversation_for(session, *channels[0])
            for channel, external in channels[1:]:
                other = conversation_for(session, channel, external)
                identity = identity_for(session, channel, external)
                identity.patron_id = first.patron_id
                other.patron_id = first.patron_id
            return first.patron_id

        return self.db.run_sync(make)

    def push(self, patron_id: int, text: str, **kwargs) -> str:  # type: ignore[no-untyped-def]
        kwargs.setdefault("kind", "ticket")
        return self.db.run_sync(lambda s: enqueue(s, patron_id, text, **kwargs).id)

    def row(self, message_id: str) -> OutboundMessage:
        def get(session):  # type: ignore[no-untyped-def]
            row = session.get(OutboundMessage, message_id)
            session.expunge(row)
            return row

        return self.db.run_sync(get)

    async def settled(self, message_id: str, timeout: float = 10) -> OutboundMessage:
        done = {OutboundStatus.SENT, OutboundStatus.DEAD, OutboundStatus.UNCERTAIN}
        await until(lambda: self.row(message_id).status in done, timeout)
        return self.row(message_id)


@pytest.fixture
async def rig(fake_tg: FakeTelegram, db_url: str) -> AsyncIterator[Rig]:
    settings = channel_settings(db_url, fake_tg, outbound_max_attempts=3)
    db = Database(db_url)
    bot = build_application(settings, polling=False).bot
    await bot.initialize()
    hub = Hub()
    worker = Worker(settings, db, [TelegramSender(bot), WebSender(hub)], worker_id="test")
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    yield Rig(fake_tg, db, worker, hub)
    stop.set()
    await asyncio.wait_for(task, 10)
    await bot.shutdown()


async def test_a_push_reaches_telegram_with_an_inline_keyboard_and_joins_the_transcript(rig):
    patron = rig.patron(("telegram", "2001"))
    buttons = [{"title": "接受", "payload": "/affirm"}, {"title": "不接受", "payload": "/deny"}]
    mid = rig.push(patron, "DD-000123：有条件提供。请回复", buttons=buttons)
    row = await rig.settled(mid)
    assert row.status == OutboundStatus.SENT and row.sent_channel == "telegram"
    (call,) = rig.fake.sent(2001)
    assert row.channel_message_id == str(call.params["_message"]["message_id"])
    keyboard = call.params["reply_markup"]["inline_keyboard"]
    assert [r[0]["text"] for r in keyboard] == ["接受", "不接受"]

    def transcript(session):  # type: ignore[no-untyped-def]
        conv = find_conversation(session, "telegram", "2001")
        return [(m.text, m.payload) for m in recent_messages(session, conv)]

    ((text, payload),) = rig.db.run_sync(transcript)
    # Recorded as offered, so a click on the pushed buttons is obeyed by the Router.
    assert text.startswith("DD-000123") and payload["payloads"] == ["/affirm", "/deny"]


async def test_pushes_to_one_chat_are_paced_and_in_order(rig: Rig) -> None:
    patron = rig.patron(("telegram", "2002"))
    ids = [rig.push(patron, f"update {i}") for i in range(4)]
    for mid in ids:
        await rig.settled(mid)
    calls = rig.fake.sent(2002)
    assert [c.params["text"] for c in calls] == [f"update {i}" for i in range(4)]
    gaps = [b.at - a.at for a, b in zip(calls, calls[1:], strict=False)]
    assert min(gaps) >= rig.worker.settings.telegram_chat_interval_seconds


async def test_a_429_is_retried_after_retry_after_without_using_up_a_try(rig: Rig) -> None:
    patron = rig.patron(("telegram", "2003"))
    # More 429s than PTB's limiter retries itself: the worker reschedules the message.
    rig.fake.fail_next("sendMessage", 429, retry_after=1, chat_id=2003, count=3)
    row = await rig.settled(rig.push(patron, "your copy is ready"), timeout=20)
    assert row.status == OutboundStatus.SENT and row.attempts == 0
    statuses = [c.status for c in rig.fake.of("sendMessage")]
    assert statuses == [429, 429, 429, 200]
    assert len(rig.fake.sent(2003)) == 1


async def test_a_403_marks_the_identity_unreachable_and_another_channel_is_used(rig) -> None:
    patron = rig.patron(("telegram", "2004"), ("web", "websession-2004-abcdefghijkl"))
    rig.fake.block(2004)
    row = await rig.settled(rig.push(patron, "your request was sent to PKU"))
    assert row.status == OutboundStatus.SENT and row.sent_channel == "web"

    def identity(session):  # type: ignore[no-untyped-def]
        i = identity_for(session, "telegram", "2004")
        return i.reachable, i.unreachable_reason

    assert rig.db.run_sync(identity) == (False, "403 Forbidden: bot was blocked by the user")
    # Nowhere left to send: a dead letter that says why.
    solo = rig.patron(("telegram", "2005"))
    rig.fake.block(2005)
    row = await rig.settled(rig.push(solo, "hello"))
    assert row.status == OutboundStatus.DEAD
    assert "unreachable on every channel" in row.last_error and "blocked" in row.last_error


async def test_the_preferred_channel_wins_and_a_live_web_tab_gets_the_push(rig: Rig) -> None:
    patron = rig.patron(("telegram", "2006"), ("web", "websession-2006-abcdefghijkl"))
    frames: list[dict] = []

    async def tab(frame):  # type: ignore[no-untyped-def]
        frames.append(frame)

    rig.hub.subscribe(tab_key("websession-2006-abcdefghijkl"), tab)

    def prefer(session, channel):  # type: ignore[no-untyped-def]
        conversation_for(session, "telegram", "2006").patron.preferred_channel = channel

    rig.db.run_sync(prefer, "web")
    row = await rig.settled(
        rig.push(patron, "to the web", buttons=[{"title": "OK", "payload": "/affirm"}])
    )
    assert row.sent_channel == "web" and frames[0]["text"] == "to the web"
    assert frames[0]["buttons"] == [{"title": "OK", "payload": "/affirm"}]
    rig.db.run_sync(prefer, "telegram")
    row = await rig.settled(rig.push(patron, "to telegram"))
    assert row.sent_channel == "telegram" and rig.fake.sent(2006)


async def test_stop_means_no_pushes(rig: Rig) -> None:
    patron = rig.patron(("telegram", "2007"))

    def stop(session):  # type: ignore[no-untyped-def]
        identity_for(session, "telegram", "2007").push_enabled = False

    rig.db.run_sync(stop)
    row = await rig.settled(rig.push(patron, "news"))
    assert row.status == OutboundStatus.DEAD and "/stop" in row.last_error
    assert rig.fake.sent(2007) == []


async def test_server_errors_back_off_and_give_up_into_a_dead_letter(rig: Rig, monkeypatch) -> None:
    patron = rig.patron(("telegram", "2008"))
    rig.fake.fail_next("sendMessage", 502, chat_id=2008, count=1)
    row = await rig.settled(rig.push(patron, "first"))
    assert row.status == OutboundStatus.SENT and row.attempts == 1

    rig.fake.fail_next("sendMessage", 502, chat_id=2008, count=5)
    row = await rig.settled(rig.push(patron, "second"), timeout=20)
    assert row.status == OutboundStatus.DEAD and row.attempts == 3
    assert "gave up after 3 tries" in row.last_error

    rig.fake.fail_next("sendMessage", 400, chat_id=2008)
    row = await rig.settled(rig.push(patron, "third"))
    assert row.status == OutboundStatus.DEAD and "400" in row.last_error

    monkeypatch.setenv("REFDESK_DATABASE_URL", rig.db.url)
    get_settings.cache_clear()
    result = CliRunner().invoke(cli.app, ["outbound", "dead", "--json"])
    assert result.exit_code == 0, result.output
    assert result.output.count('"status": "dead"') == 2 and "gave up after 3 tries" in result.output
    table = CliRunner().invoke(cli.app, ["outbound", "dead"])
    assert "2 message(s) for staff review" in table.output

    # Staff decide to send one again: it goes out once more, now that Telegram is fine.
    requeued = CliRunner().invoke(cli.app, ["outbound", "requeue", row.id[:8]])
    assert requeued.exit_code == 0, requeued.output
    row = await rig.settled(row.id)
    assert row.status == OutboundStatus.SENT and "third" in rig.fake.sent(2008)[-1].params["text"]
    again = CliRunner().invoke(cli.app, ["outbound", "requeue", row.id])
    assert again.exit_code == 1 and "only dead or uncertain" in again.output


async def test_a_message_for_a_channel_without_sender_waits(rig: Rig) -> None:
    patron = rig.patron(("telegram", "2009"))
    mid = rig.push(patron, "weekly digest", channel="email")
    await asyncio.sleep(0.5)
    assert rig.row(mid).status == OutboundStatus.QUEUED


def test_expired_claims_become_uncertain_unless_the_channel_is_idempotent(session) -> None:
    patron = conversation_for(session, "telegram", "3001").patron_id
    rows = [enqueue(session, patron, f"m{i}", kind="system") for i in range(2)]
    past = utcnow() - timedelta(seconds=1)
    for row, channel in zip(rows, ("telegram", "idem"), strict=True):
        row.status, row.lease_until, row.sent_channel = OutboundStatus.SENDING, past, channel
        row.claimed_by = "dead-worker"
    session.flush()
    assert recover_expired(session, {"idem"}, utcnow()) == 2
    assert [r.status for r in rows] == [OutboundStatus.UNCERTAIN, OutboundStatus.QUEUED]
    assert "may have this message" in rows[0].last_error
    # A lease still running is left alone.
    rows[1].status, rows[1].lease_until = OutboundStatus.SENDING, utcnow() + timedelta(minutes=1)
    assert recover_expired(session, set(), utcnow()) == 0
    assert session.scalars(select(OutboundMessage.status)).all().count(OutboundStatus.SENDING) == 1


def test_text_only_rendering_and_splitting() -> None:
    text = numbered("Choose:", [Button("Yes", "/affirm"), Button("No", "/deny")], "en")
    assert text == "Choose:\n\n1. Yes\n2. No\n(reply with a number to choose)"
    assert numbered("好", [], "zh") == "好"
    pieces = split_text("word " * 2000, 4096)
    assert all(len(p) <= 4096 for p in pieces) and " ".join(pieces).split() == ["word"] * 2000


async def test_the_telegram_sender_maps_errors(fake_tg: FakeTelegram, db_url: str) -> None:
    settings = channel_settings(db_url, fake_tg)
    bot = build_application(settings, polling=False).bot
    await bot.initialize()
    sender = TelegramSender(bot)
    fake_tg.fail_next("sendMessage", 429, retry_after=1, count=3)
    with pytest.raises(SendRetry) as caught:
        await asyncio.wait_for(sender.send(Outgoing("x", "5", "hi")), 30)
    assert caught.value.after == 1 and caught.value.counts is False
    await bot.shutdown()
