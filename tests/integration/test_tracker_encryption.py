"""The engine's tracker store keeps conversations encrypted at rest: after a real
conversation through the real engine, neither the SQLite tracker file nor a pg_dump
of a PostgreSQL tracker database contains what the patron wrote, and a half-filled
form survives an engine restart (the engine reads its encrypted tracker back)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_ADMIN_URL
from tests.support.chat import ChatClient, texts
from tests.support.stack import Stack, start_stack

pytestmark = pytest.mark.stack

JOURNAL = "The Lancet"
ARTICLE = "Social determinants of health in urban China"
ZH_QUESTION = "请问有没有关于敦煌壁画颜料分析的论文"


def _secrets(*plain: str) -> list[bytes]:
    # Rasa stores events as JSON with non-ASCII escaped: look for both spellings.
    found = []
    for s in plain:
        found += [s.encode(), json.dumps(s).strip('"').encode()]
    return found


def _button(replies: list[dict[str, Any]], title: str) -> dict[str, str]:
    found = [b for r in replies for b in r.get("buttons", []) if b["title"] == title]
    assert found, (title, texts(replies))
    return found[0]


async def _timed(turn) -> tuple[list[dict[str, Any]], float]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    replies = await turn
    return replies, time.perf_counter() - start


def test_the_sqlite_tracker_file_holds_no_message_text(stack: Stack) -> None:
    async def talk() -> list[dict[str, Any]]:
        chat = await ChatClient(stack.ws_url).connect()
        await chat.say(ZH_QUESTION)
        await chat.say("I'd like to request an article through interlibrary loan")
        replies = await chat.say(JOURNAL)
        await chat.close()
        return replies

    replies = asyncio.run(talk())
    assert "title of the article" in texts(replies)  # the conversation works
    tracker = stack.home / "tracker.db"
    with sqlite3.connect(tracker) as conn:
        rows = [r[0] for r in conn.execute("SELECT data FROM events")]
    assert len(rows) > 10 and all(r.startswith("enc1:") for r in rows)
    on_disk = b"".join(p.read_bytes() for p in tracker.parent.glob("tracker.db*"))
    for secret in _secrets(ZH_QUESTION, "敦煌", "interlibrary loan", JOURNAL):
        assert secret not in on_disk, secret


@pytest.fixture(scope="module")
def pg_tracker_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    name = f"refdesk_tracker_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    stack = start_stack(
        tmp_path_factory.mktemp("pgtracker"), extra_env={"REFDESK_TRACKER_STORE_URL": url}
    )
    yield stack, url
    stack.stop()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _pg_dump(url: str) -> bytes:
    parsed = make_url(url)
    return subprocess.run(
        ["pg_dump", "-h", parsed.host or "127.0.0.1", "-U", "postgres", str(parsed.database)],
        capture_output=True,
        check=True,
    ).stdout


async def test_a_pg_dump_holds_no_message_text_and_a_form_survives_an_engine_restart(
    pg_tracker_stack: tuple[Stack, str],
) -> None:
    stack, url = pg_tracker_stack
    chat = await ChatClient(stack.ws_url).connect()
    timings = []
    asked, took = await _timed(chat.say("I'd like to request an article through interlibrary loan"))
    timings.append(took)
    assert "Paste a DOI" in texts(asked)
    missing, took = await _timed(chat.say(JOURNAL))
    timings.append(took)
    assert "title of the article" in texts(missing)

    dump = _pg_dump(url)
    assert b"COPY public.events" in dump and dump.count(b"enc1:") > 10  # a real dump
    for secret in _secrets("interlibrary loan", JOURNAL):
        assert secret not in dump, secret

    # The engine starts again and loads the half-filled form from its encrypted tracker.
    stack.kill("engine")
    await asyncio.to_thread(stack.wait_healthy, 420)
    how, took = await _timed(chat.say(ARTICLE))
    timings.append(took)
    assert "e-mail or pickup" in texts(how), texts(how)
    pickup, took = await _timed(chat.click(_button(how, "Pickup")))
    timings.append(took)
    where, took = await _timed(chat.click(_button(pickup, "Tsinghua University Library")))
    timings.append(took)
    summary = texts(where)
    assert "Please check your request" in summary and JOURNAL in summary and ARTICLE in summary
    await chat.close()
    for secret in _secrets(ARTICLE, "Tsinghua"):
        assert secret not in _pg_dump(url), secret
    print("turn latency (s):", ", ".join(f"{t:.2f}" for t in timings))


def test_rows_in_the_dump_are_in_the_apps_format(pg_tracker_stack: tuple[Stack, str]) -> None:
    """What the engine wrote decrypts with the app's key ring (`refdesk keys` can rotate it)."""
    stack, url = pg_tracker_stack
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT data FROM events ORDER BY id")).scalars().all()
    engine.dispose()
    assert stored, "the conversation test above writes events first"
    from kb.crypto import load_keyring

    with stack.db():  # the stack's REFDESK_HOME, so its key file
        ring = load_keyring()
        events = [json.loads(ring.decrypt(value)) for value in stored]
    assert {e["event"] for e in events} >= {"action", "user"}
