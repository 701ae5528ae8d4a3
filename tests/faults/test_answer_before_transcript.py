"""The web chat shows the assistant's answer before the gateway writes it to the
transcript (bot.router.Follower.answered), so the patron does not wait for that write.

If the database is locked just then, the patron keeps the answer they already have:
no "not sent, try again" error for a line that was kept and answered. The transcript
misses only the bot's copy, and the metrics count it. The next line works as usual.

The router runs on a real SQLite database with a one-second busy timeout; the engine
is a stand-in that takes SQLite's write lock from another connection while it
"thinks", as a long write elsewhere would.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.db import Database, StorageUnavailable
from bot.engine_client import EngineReply
from bot.metrics import Metrics
from bot.replies import Reply
from bot.router import Follower, Router
from kb.conversations import Conversation, Speaker
from kb.db import engine_for, session_scope
from kb.patrons.service import sender_id
from kb.settings import get_settings


class LockingEngine:
    """Answers "ok"; with ``lock_next`` set, takes the database's write lock first."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock_next = False
        self.holder: sqlite3.Connection | None = None

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> EngineReply:
        if self.lock_next:
            self.lock_next = False
            self.holder = sqlite3.connect(self.path, isolation_level=None)
            self.holder.execute("BEGIN EXCLUSIVE")
        return EngineReply(
            messages=[{"text": f"ok: {text}"}], parse={"intent": "greet", "confidence": 0.99}
        )

    def release(self) -> None:
        if self.holder is not None:
            self.holder.execute("COMMIT")
            self.holder.close()
            self.holder = None


@pytest.fixture
def db_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A fresh SQLite database whose writers wait one second for a lock, not thirty."""
    monkeypatch.setenv("REFDESK_SQLITE_BUSY_TIMEOUT_SECONDS", "1")
    get_settings.cache_clear()
    path = tmp_path / "refdesk.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    yield url
    engine_for(url).dispose()
    get_settings.cache_clear()


def _transcript(db_url: str, sender: str) -> list[tuple[Speaker, str]]:
    with session_scope(db_url) as session:
        conv = session.scalar(select(Conversation).where(Conversation.sender_id == sender))
        assert conv is not None
        return [(m.speaker, m.text) for m in conv.messages]


async def test_the_answer_is_shown_first_and_kept_unless_the_database_is_locked(
    db_url: str,
) -> None:
    engine = LockingEngine(db_url.removeprefix("sqlite:///"))
    metrics = Metrics()
    router = Router(get_settings(), Database(db_url), engine, metrics)  # type: ignore[arg-type]
    shown: list[list[Reply]] = []
    transcript_when_shown: list[list[tuple[Speaker, str]]] = []

    async def received(_: str | None) -> None:
        pass

    async def answered(replies: list[Reply]) -> None:
        shown.append(replies)
        transcript_when_shown.append(_transcript(db_url, sender_id("web", "tab-9")))

    follower = Follower(received=received, answered=answered)
    try:
        turn = await router.handle_text("web", "tab-9", "hello", follower)
        assert [r.text for r in shown[0]][0] == "ok: hello"
        # Shown before it was written down; written down before the turn ended.
        assert (Speaker.BOT, "ok: hello") not in transcript_when_shown[0]
        assert (Speaker.BOT, "ok: hello") in _transcript(db_url, turn.sender_id)

        engine.lock_next = True
        turn = await router.handle_text("web", "tab-9", "opening hours?", follower)
        engine.release()
        assert [r.text for r in shown[1]] == ["ok: opening hours?"]
        assert turn.replies == []
        lines = _transcript(db_url, turn.sender_id)
        assert (Speaker.PATRON, "opening hours?") in lines
        assert (Speaker.BOT, "ok: opening hours?") not in lines
        assert metrics.errors.labels("transcript_not_kept")._value.get() == 1

        await router.handle_text("web", "tab-9", "thanks", follower)
        assert (Speaker.BOT, "ok: thanks") in _transcript(db_url, turn.sender_id)

        # A channel that sends the turn's replies itself (Telegram, WeChat) has nothing
        # yet: it is told of the outage as before.
        engine.lock_next = True
        with pytest.raises(StorageUnavailable):
            await router.handle_text("web", "tab-9", "one more")
    finally:
        engine.release()
        await router.close()
