"""A gateway with the WeChat channel on a real port, with a scripted engine.

The gateway is the real app (router, database, linking, webhook) served by uvicorn
in a thread, so the simulator's timeouts and retries are real HTTP ones; only the
Rasa engine is replaced by ``FakeEngine``. The customer-service API is the fake in
tests/fixtures/fake_wechat_api.py.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn

from bot.engine_client import EngineReply
from kb.language import detect_language
from tests.fixtures.fake_wechat_api import FakeWeChatApi
from tests.fixtures.wechat_client import WeChatSimulator, new_aes_key
from tests.support.stack import free_port

TOKEN = "refdesk-test-token"
APPID = "wx1234567890abcdef"
SECRET = "test-app-secret"


@dataclass
class FakeEngine:
    """Answers "echo: <text>" (or a scripted reply) after ``delay`` seconds."""

    delay: float = 0.0
    # When set, the engine holds its answer until the test opens the gate.
    gate: threading.Event | None = None
    calls: list[str] = field(default_factory=list)
    replies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any]) -> EngineReply:
        self.calls.append(text)
        if self.delay:
            await asyncio.sleep(self.delay)
        while self.gate is not None and not self.gate.is_set():
            await asyncio.sleep(0.01)
        messages = self.replies.get(text) or [{"text": f"echo: {text}"}]
        # Like Rasa: a "/intent" payload skips the pipeline, so no language entity.
        language = None if text.startswith("/") else detect_language(text)
        return EngineReply(
            messages=messages,
            parse={"intent": "test", "confidence": 1.0},
            entities={"language": language} if language else {},
        )

    async def close(self) -> None:
        return None


@dataclass
class Gateway:
    url: str
    app: Any
    engine: FakeEngine
    api: FakeWeChatApi
    aes_key: str
    server: Server

    @property
    def webhook(self) -> str:
        return self.url + "/webhooks/wechat"

    def simulator(self, safe: bool = False, **kw: Any) -> WeChatSimulator:
        return WeChatSimulator(
            self.webhook, TOKEN, APPID, aes_key=self.aes_key if safe else None, **kw
        )


@pytest.fixture
def db_url(tmp_path: Any, sqlite_template: Any) -> Iterator[str]:
    """SQLite only: the storage under the channel is tested on both backends in tests/kb."""
    import shutil

    from kb.db import engine_for

    path = tmp_path / "refdesk.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    yield url
    engine_for(url).dispose()


@pytest.fixture
def fake_api() -> Iterator[FakeWeChatApi]:
    api = FakeWeChatApi(APPID, SECRET).start()
    yield api
    api.stop()


@pytest.fixture
def wechat_settings(monkeypatch: pytest.MonkeyPatch, db_url: str, fake_api: FakeWeChatApi):  # type: ignore[no-untyped-def]
    """Environment for a WeChat-enabled gateway; tests may override before ``gateway``."""
    key = new_aes_key()
    env = {
        "REFDESK_DATABASE_URL": db_url,
        "REFDESK_WECHAT_TOKEN": TOKEN,
        "REFDESK_WECHAT_APPID": APPID,
        "REFDESK_WECHAT_APPSECRET": SECRET,
        "REFDESK_WECHAT_AES_KEY": key,
        "REFDESK_WECHAT_API_BASE": fake_api.url,
        "REFDESK_ENGINE_PORT": str(free_port()),  # nothing listens: the engine is faked
        "REFDESK_ACTIONS_PORT": str(free_port()),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


class Server(uvicorn.Server):
    thread: threading.Thread

    def stop(self) -> None:
        self.should_exit = True
        self.thread.join(timeout=10)


def serve(app: Any) -> tuple[str, Server]:
    port = free_port()
    server = Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    server.thread = threading.Thread(target=server.run, daemon=True)
    server.thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise TimeoutError("gateway did not start")
        time.sleep(0.01)
    return f"http://127.0.0.1:{port}", server


@pytest.fixture
def gateway(wechat_settings: dict[str, str], fake_api: FakeWeChatApi) -> Iterator[Gateway]:
    from bot.app import create_app
    from kb.settings import get_settings

    get_settings.cache_clear()
    app = create_app(get_settings())
    engine = FakeEngine()
    app.state.refdesk.router.engine = engine
    url, server = serve(app)
    yield Gateway(url, app, engine, fake_api, wechat_settings["REFDESK_WECHAT_AES_KEY"], server)
    server.stop()
