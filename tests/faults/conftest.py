"""One stack for the PostgreSQL, Redis and console fault tests: engine, action server
and gateway (`refdesk up`) on a *private* PostgreSQL cluster (app database and Rasa's
tracker store) and a *private* Redis (Rasa's lock store, fan-out, rate limits), both
started here in a temporary directory so they can be stopped and killed without
disturbing the shared servers other test runs use.

Its gateway also long-polls a fake Telegram Bot API, for a Telegram message arriving
during a database outage. The SQLite and Telegram-error fault tests use the suite's
shared ``stack`` (SQLite, fake Bot API) instead: no extra engine start for them."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.console.conftest import PASSWORD, STAFF
from tests.fixtures.fake_telegram import FakeTelegram
from tests.support.private_servers import PrivatePostgres, PrivateRedis
from tests.support.stack import Stack


@pytest.fixture(scope="package")
def private_postgres() -> Iterator[PrivatePostgres]:
    # Not under pytest's temp directory: that one is private to root, and the server
    # runs as the postgres user.
    pg = PrivatePostgres(Path(tempfile.mkdtemp(prefix="refdesk-faults-pg-"))).create()
    yield pg
    pg.destroy()


@pytest.fixture(scope="package")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.destroy()


@pytest.fixture(scope="package")
def pg_telegram() -> Iterator[FakeTelegram]:
    """The fake Bot API the faults stack's gateway long-polls."""
    fake = FakeTelegram().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="package")
def pg_stack(tmp_path_factory, private_postgres, private_redis, pg_telegram):  # type: ignore[no-untyped-def]
    """Engine + actions + gateway on the private PostgreSQL and Redis, with console
    users li, wang and zhao, and the Telegram channel on a fake Bot API."""
    from kb.console.logins import set_password
    from kb.staff.service import add_staff
    from tests.support.stack import start_stack

    app_url = private_postgres.create_database("refdesk")
    tracker_url = private_postgres.create_database("tracker")
    s = start_stack(
        tmp_path_factory.mktemp("pg-stack"),
        extra_env={
            "REFDESK_DATABASE_URL": app_url,
            "REFDESK_TRACKER_STORE_URL": tracker_url,
            "REFDESK_REDIS_URL": private_redis.url,
            "REFDESK_CONSOLE_SECURE_COOKIES": "false",
            **pg_telegram.env(),
            "REFDESK_TELEGRAM_POLL_TIMEOUT_SECONDS": "2",
        },
    )
    s.postgres = private_postgres  # type: ignore[attr-defined]
    s.redis = private_redis  # type: ignore[attr-defined]
    s.telegram = pg_telegram  # type: ignore[attr-defined]
    try:
        with s.db() as session:
            for username, name, role in STAFF:
                add_staff(session, username, library_code=None, role=role, display_name=name)
                set_password(session, username, PASSWORD)
        yield s
    finally:
        s.stop()


# --- what every fault test checks afterwards ------------------------------------------


def patron_lines(stack: Stack, session_token: str) -> list[str]:
    """The patron's lines of one web-chat conversation, decrypted through kb/."""
    from kb.conversations import Message, Speaker, find_conversation

    with stack.db() as session:
        conv = find_conversation(session, "web", session_token)
        if conv is None:
            return []
        rows = session.scalars(
            select(Message)
            .where(Message.conversation_id == conv.id, Message.speaker == Speaker.PATRON)
            .order_by(Message.id)
        )
        return [m.text for m in rows]


def is_bilingual_notice(frame: dict[str, Any], code: str) -> bool:
    """A clear notice, not a stack trace: the expected code, and a text that is one of
    the two language versions of that message."""
    from bot.texts import TEXTS

    zh, en = TEXTS[code]
    text = frame.get("text", "")
    lead_zh, lead_en = zh.split("{")[0][:12], en.split("{")[0][:12]
    return (
        frame.get("code") == code
        and (text.startswith(lead_zh) or text.startswith(lead_en))
        and "Traceback" not in text
    )


async def wait_until(predicate, timeout: float = 60, every: float = 0.5) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(predicate):
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(every)
