"""SQLite locked: another process holds the write lock longer than the busy timeout
(``REFDESK_SQLITE_BUSY_TIMEOUT_SECONDS``) while a patron writes. The patron is told
clearly and handed the message back; sent again once the lock is gone, it is kept and
answered. Another tab sees the line once, when it is kept. Runs on the suite's shared SQLite stack (default 30 s timeout)."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys

import pytest

from kb.settings import Settings
from tests.faults.conftest import is_bilingual_notice, patron_lines
from tests.support.chat import ChatClient, texts

pytestmark = pytest.mark.stack

_HOLD = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
"""


async def test_a_locked_sqlite_database_loses_nothing(stack) -> None:
    client = await ChatClient(stack.ws_url).connect()
    assert "Hello" in texts(await client.say("hello"))
    other_tab = await ChatClient(stack.ws_url, session=client.session).connect()
    busy = Settings().sqlite_busy_timeout_seconds
    path = stack.database_url.removeprefix("sqlite:///")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, path, str(busy + 6)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        text = "Please keep this: do you have the 1936 Shen Bao on microfilm?"
        (frame,) = await client.say(text, timeout=busy + 30)
        assert frame["type"] == "error" and is_bilingual_notice(frame, "storage_unavailable")
        assert frame["unsent"] == text and frame["retry_after"] > 0
    finally:
        await asyncio.to_thread(holder.wait, busy + 30)
    replies = await client.say(frame["unsent"], timeout=60)
    assert replies and replies[0]["type"] in ("message", "notice")
    assert patron_lines(stack, client.session) == ["hello", text]
    back = await client.say("hello")
    assert back[0]["type"] == "message" and "Hello" in texts(back)
    await client.close()
    seen_elsewhere = []
    with contextlib.suppress(TimeoutError):
        while True:
            seen_elsewhere.append(await other_tab.next_frame(timeout=2))
    await other_tab.close()
    # Not when the database refused it: the echo means "kept".
    assert [f["text"] for f in seen_elsewhere if f.get("speaker") == "patron"] == [text, "hello"]
