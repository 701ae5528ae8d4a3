"""The real python-telegram-bot against the fake Bot API, with a scripted engine.

No Rasa here: ``ScriptedEngine`` stands in for the engine behind the real Router,
so these tests exercise the channel, the Router's bookkeeping and the database in
seconds. The conversations through the real engine are in test_telegram_stack.py.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.handlers import Deps
from bot.db import Database
from bot.engine_client import EngineReply
from bot.metrics import Metrics
from bot.router import Router
from kb.language import detect_language
from kb.privacy import notice
from kb.settings import Settings
from tests.fixtures.fake_telegram import FakeTelegram

LONG_PAYLOAD = '/search_catalog{"query": "' + "数据库系统概念" * 4 + '"}'


@dataclass
class ScriptedEngine:
    """Answers like the dialogue model would, from a few fixed rules."""

    seen: list[str] = field(default_factory=list)

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> EngineReply:
        self.seen.append(text)
        lang = detect_language(text) or metadata.get("language")
        if text.startswith("/"):
            return EngineReply([{"text": f"clicked {text}"}])
        if "buttons" in text or "按钮" in text:
            return EngineReply(
                [
                    {
                        "text": "请选择：" if lang == "zh" else "Choose one:",
                        "buttons": [
                            {"title": "Search the catalog", "payload": "/search_catalog"},
                            {"title": "数据库系统概念", "payload": LONG_PAYLOAD},
                        ],
                    }
                ]
            )
        if re.search(r"hello|hi\b", text, re.I):
            return EngineReply([{"text": "Hello! How can I help?"}])
        if "你好" in text:
            return EngineReply([{"text": "您好！有什么可以帮您？"}])
        return EngineReply([{"text": f"You said: {text.strip()}"}])

    async def close(self) -> None:
        return None


def channel_settings(db_url: str, fake: FakeTelegram, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "telegram_token": fake.token,
        "telegram_api_base": fake.api_base,
        "telegram_poll_timeout_seconds": 1,
        "telegram_chat_interval_seconds": 0.2,
        "outbound_poll_seconds": 0.1,
        "outbound_backoff_seconds": 0.2,
        "outbound_lease_seconds": 30,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def fake_tg() -> Iterator[FakeTelegram]:
    fake = FakeTelegram().start()
    yield fake
    fake.stop()


@dataclass
class Harness:
    fake: FakeTelegram
    channel: TelegramChannel
    db: Database
    engine: ScriptedEngine
    settings: Settings

    async def until(self, predicate: Any, timeout: float = 10) -> Any:
        """Wait (without blocking the loop PTB runs on) until ``predicate()`` is truthy."""
        return await until(predicate, timeout)

    async def replies(self, chat_id: int, count: int = 1, timeout: float = 10) -> list[str]:
        """The texts of the first ``count`` messages the bot sent to the chat, without the
        privacy notice of the first contact (tests/channels/test_telegram_privacy_notice.py
        checks that one)."""

        def sent() -> list[str]:
            texts = [c.params["text"] for c in self.fake.sent(chat_id)]
            return [t for t in texts if t not in PRIVACY_NOTICES]

        texts = await self.until(lambda: len(sent()) >= count and sent(), timeout)
        assert texts
        return list(texts)

    async def settle(self, seconds: float = 0.6) -> None:
        await asyncio.sleep(seconds)


PRIVACY_NOTICES = {notice.text(language) for language in ("zh", "en", None)}


async def until(predicate: Any, timeout: float = 10) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.fixture
async def telegram(fake_tg: FakeTelegram, db_url: str) -> AsyncIterator[Harness]:
    """The Telegram channel long-polling the fake, answering through the real Router."""
    settings = channel_settings(db_url, fake_tg)
    db = Database(db_url)
    engine = ScriptedEngine()
    metrics = Metrics()
    router = Router(settings, db, engine, metrics)  # type: ignore[arg-type]
    channel = TelegramChannel(settings, Deps(settings, db, router, metrics))
    channel.start()
    await asyncio.wait_for(channel.ready.wait(), 10)
    yield Harness(fake_tg, channel, db, engine, settings)
    await channel.stop()
    await router.close()
