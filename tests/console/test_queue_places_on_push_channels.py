"""Patrons waiting for a librarian on Telegram hear their new place in the queue through
the outbound worker: a real gateway process long-polling the fake Bot API, a librarian
on the console over HTTP, the patrons queued in the database (no engine here)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.console.conftest import PASSWORD, STAFF, Gateways, Librarian
from tests.fixtures.fake_telegram import FakeTelegram
from tests.support.stack import free_port

THROTTLE = 3.0
CHATS = (5001, 5002, 5003)


@pytest.fixture(scope="module")
def telegram_gateway(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Gateways, FakeTelegram]]:
    from kb.console.logins import set_password
    from kb.migrate import upgrade
    from kb.staff.service import add_staff

    fake = FakeTelegram().start()
    home = tmp_path_factory.mktemp("queue-push")
    env = {
        **fake.env(),
        "REFDESK_HOME": str(home),
        "REFDESK_DATABASE_URL": f"sqlite:///{home / 'refdesk.db'}",
        "REFDESK_ENGINE_PORT": str(free_port()),
        "REFDESK_CONSOLE_SECURE_COOKIES": "false",
        # The sweeper looks every 5 s; the librarian (no console socket here) keeps
        # their chat for the whole test.
        "REFDESK_CONSOLE_GRACE_SECONDS": "60",
        "REFDESK_CONSOLE_QUEUE_UPDATE_SECONDS": str(THROTTLE),
        "REFDESK_TELEGRAM_POLL_TIMEOUT_SECONDS": "1",
        "REFDESK_TELEGRAM_CHAT_INTERVAL_SECONDS": "0.1",
        "REFDESK_OUTBOUND_POLL_SECONDS": "0.2",
        "REFDESK_REDIS_URL": "",
    }
    gw = Gateways(home, env)
    with gw.db():
        upgrade(env["REFDESK_DATABASE_URL"])
    with gw.db() as session:
        for username, name, role in STAFF:
            add_staff(session, username, library_code=None, role=role, display_name=name)
            set_password(session, username, PASSWORD)
    try:
        gw.start()
        yield gw, fake
    finally:
        gw.stop()
        fake.stop()


def _queue_on_telegram(gw: Gateways, chat_id: int, language: str) -> int:
    from kb.console.queue import request_chat
    from kb.conversations import conversation_for

    with gw.db() as session:
        conv = conversation_for(session, "telegram", str(chat_id))
        conv.language = language
        return request_chat(session, conv, "intent").id


def _texts(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [c.params["text"] for c in fake.sent(chat_id)]


def test_places_reach_telegram_when_they_change_and_not_more_often(telegram_gateway) -> None:  # type: ignore[no-untyped-def]
    gw, fake = telegram_gateway
    first, second, third = CHATS
    live = [_queue_on_telegram(gw, first, "en"), _queue_on_telegram(gw, second, "en")]
    _queue_on_telegram(gw, third, "zh")

    li = Librarian(gw.urls[0], "li")
    assert li.post("/status", {"status": "online"}).status_code == 200
    # Going online changes the queue: everyone hears their place once.
    fake.wait_sent(third, 1)
    (place,) = _texts(fake, first)
    assert place.startswith("You are number 1 in the queue for a librarian; estimated wait")
    assert "number 2" in _texts(fake, second)[0]
    assert "排第 3 位" in _texts(fake, third)[0]

    # The first is claimed: the others move up, but they were told a moment ago, so
    # the news waits for the interval (and then comes once, from the sweeper).
    claimed_at = time.monotonic()
    assert li.post(f"/chats/{live[0]}/claim").status_code == 200
    time.sleep(1.0)
    assert len(_texts(fake, second)) == 1 and len(_texts(fake, third)) == 1
    fake.wait_sent(second, 2, timeout=THROTTLE + 15)
    fake.wait_sent(third, 2, timeout=THROTTLE + 15)
    assert time.monotonic() - claimed_at >= THROTTLE - 1.2
    assert "number 1" in _texts(fake, second)[1]
    assert "排第 2 位" in _texts(fake, third)[1]

    # Nothing changes: nothing more is sent (the estimate is not news on a phone).
    time.sleep(THROTTLE + 1.5)
    assert len(_texts(fake, second)) == 2 and len(_texts(fake, third)) == 2
    # The claimed patron heard the librarian join, and no place after that.
    claimed = _texts(fake, first)
    assert len(claimed) == 2 and "in the queue" not in claimed[1]

    # Every push went through the outbound queue, once.
    from sqlalchemy import select

    from kb.outbound import OutboundMessage

    with gw.db() as session:
        kinds = [m.kind for m in session.scalars(select(OutboundMessage)) if m.kind == "queue"]
    assert len(kinds) == 5
