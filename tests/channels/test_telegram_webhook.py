"""Webhook mode: the gateway registers its URL with a secret and checks it on every POST."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from bot.app import create_app
from tests.channels.conftest import ScriptedEngine, channel_settings, until
from tests.fixtures.fake_telegram import FakeTelegram
from tests.support.stack import free_port

SECRET = "s3cret_Token-for-tests"


@pytest.fixture
async def gateway(fake_tg: FakeTelegram, db_url: str) -> AsyncIterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = channel_settings(
        db_url,
        fake_tg,
        gateway_port=port,
        telegram_webhook_url=f"{url}/webhooks/telegram",
        telegram_webhook_secret=SECRET,
    )
    app = create_app(settings)
    app.state.refdesk.router.engine = ScriptedEngine()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    await until(lambda: server.started and fake_tg.webhook, timeout=15)
    yield url
    server.should_exit = True
    await asyncio.wait_for(task, 30)


async def test_the_webhook_is_registered_with_the_secret(gateway, fake_tg) -> None:
    assert fake_tg.webhook == {"url": f"{gateway}/webhooks/telegram", "secret_token": SECRET}
    assert fake_tg.of("getUpdates") == []  # no polling in webhook mode


async def test_updates_posted_by_telegram_are_answered(gateway, fake_tg) -> None:
    # The fake POSTs the update to the webhook with the secret header, as Telegram does.
    await asyncio.to_thread(fake_tg.message, 5001, "hello")
    await until(lambda: fake_tg.sent(5001), timeout=10)
    assert fake_tg.sent(5001)[0].params["text"] == "Hello! How can I help?"


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, b'{"update_id": 1}', 403),
        ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, b'{"update_id": 1}', 403),
        ({"X-Telegram-Bot-Api-Secret-Token": SECRET[:-1]}, b'{"update_id": 1}', 403),
        ({"X-Telegram-Bot-Api-Secret-Token": SECRET}, b'{"update_id": 1,', 400),
        ({"X-Telegram-Bot-Api-Secret-Token": SECRET}, b"\xff\xfe", 400),
        ({"X-Telegram-Bot-Api-Secret-Token": SECRET}, b"[1, 2]", 400),
        ({"X-Telegram-Bot-Api-Secret-Token": SECRET}, b'{"update_id": "x"}', 400),
        ({"X-Telegram-Bot-Api-Secret-Token": SECRET}, b'{"update_id": 77}', 200),
    ],
)
async def test_bad_secrets_and_malformed_bodies_are_refused(gateway, headers, body, status):
    async with httpx.AsyncClient() as client:
        resp = await client.post(f"{gateway}/webhooks/telegram", content=body, headers=headers)
    assert resp.status_code == status, resp.text
    if status != 200:
        assert resp.json()["error"]


async def test_a_forged_update_with_a_bad_secret_reaches_nobody(gateway, fake_tg) -> None:
    update = {
        "update_id": 9,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 5002, "type": "private"},
            "from": {"id": 5002, "is_bot": False, "first_name": "X"},
            "text": "hello",
        },
    }
    async with httpx.AsyncClient() as client:
        resp = await client.post(
            f"{gateway}/webhooks/telegram",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": "guess"},
        )
    assert resp.status_code == 403
    await asyncio.sleep(0.5)
    assert fake_tg.sent(5002) == []
