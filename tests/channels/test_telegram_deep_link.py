"""Linking Telegram in one tap: the web chat offers t.me/<bot>?start=link<code>, and
Telegram's /start with that parameter links the chat (python-telegram-bot against the
fake Bot API, the real Router; the last test drives the web chat in headless Chromium)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from bot.channels.telegram import CHANNEL
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.handlers import Deps
from bot.db import Database
from bot.linking import text
from bot.metrics import Metrics
from bot.router import Router
from kb.conversations import find_conversation, recent_messages
from kb.patrons import identity_for
from kb.settings import get_settings
from tests.channels.conftest import Harness, ScriptedEngine, channel_settings
from tests.fixtures.fake_telegram import FakeTelegram

BOT = "refdesk_test_bot"
LINK = re.compile(rf"^https://t\.me/{BOT}\?start=link(\d{{6}})$")


@pytest.fixture(autouse=True)
def bot_username(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFDESK_TELEGRAM_BOT_USERNAME", BOT)
    get_settings.cache_clear()


async def _harness(fake: FakeTelegram, db_url: str) -> tuple[Harness, Router]:
    settings = channel_settings(db_url, fake, telegram_bot_username=BOT)
    db = Database(db_url)
    metrics = Metrics()
    router = Router(settings, db, ScriptedEngine(), metrics)  # type: ignore[arg-type]
    channel = TelegramChannel(settings, Deps(settings, db, router, metrics))
    channel.start()
    await asyncio.wait_for(channel.ready.wait(), 10)
    return Harness(fake, channel, db, router.engine, settings), router  # type: ignore[arg-type]


@pytest.fixture
async def linked(fake_tg: FakeTelegram, db_url: str) -> AsyncIterator[tuple[Harness, Router]]:
    h, router = await _harness(fake_tg, db_url)
    yield h, router
    await h.channel.stop()
    await router.close()


def _patron_of(h: Harness, channel: str, external_id: str) -> int:
    return h.db.run_sync(lambda s: identity_for(s, channel, external_id).patron_id)


async def test_start_with_the_code_from_the_web_chat_links_the_chat_once(linked) -> None:  # type: ignore[no-untyped-def]
    h, router = linked
    asked = await router.handle_text("web", "web-patron-1", "link my account")
    (reply,) = asked.replies
    url = reply.custom["link"]["url"]  # type: ignore[index]
    code = LINK.match(url).group(1)  # type: ignore[union-attr]
    assert code in reply.text and reply.custom["link"]["title"] == "Continue on Telegram"  # type: ignore[index]

    h.fake.command(3001, "start", f"link{code}")
    (done,) = await h.replies(3001)
    # In the language the patron asked for the code in.
    assert done == "Done: this chat is now linked with your web chat."
    assert _patron_of(h, "web", "web-patron-1") == _patron_of(h, CHANNEL, "3001")
    assert h.engine.seen == []  # the code never reaches the engine

    def transcript(session):  # type: ignore[no-untyped-def]
        conv = find_conversation(session, CHANNEL, "3001")
        return " ".join(m.text for m in recent_messages(session, conv))

    assert code not in h.db.run_sync(transcript)

    # The same link again from another chat: used, so refused in both languages.
    h.fake.command(3002, "start", f"link{code}")
    (used,) = await h.replies(3002)
    assert used == text("link_deep_invalid", None)
    assert "已过期" in used and "expired" in used
    assert _patron_of(h, CHANNEL, "3002") != _patron_of(h, "web", "web-patron-1")


async def test_a_bad_deep_link_is_refused_clearly_and_other_parameters_just_start(linked) -> None:  # type: ignore[no-untyped-def]
    h, _ = linked
    h.fake.command(3003, "start", "link12ab")  # a mangled link
    (bad,) = await h.replies(3003)
    assert bad == text("link_deep_invalid", None)
    h.fake.command(3004, "start", "link999999")  # no such code
    (wrong,) = await h.replies(3004)
    assert wrong == text("link_deep_invalid", None)
    h.fake.command(3005, "start", "from_poster")  # another campaign's parameter
    (hello,) = await h.replies(3005)
    assert "Hello" in hello and "您好" in hello


async def test_a_telegram_chat_is_not_offered_a_link_to_itself(linked) -> None:  # type: ignore[no-untyped-def]
    h, router = linked
    asked = await router.handle_text(CHANNEL, "3006", "绑定账号")
    assert asked.replies[0].custom is None and "绑定码" in asked.replies[0].text


@pytest.mark.browser
def test_the_web_chat_shows_the_telegram_link_and_one_tap_links(
    tmp_path: Path, fake_tg: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.browser.test_webchat_page import CHROMIUM, CHROMIUM_ARGS
    from tests.support.gateway import gateway_process

    with gateway_process(tmp_path, telegram_bot_username=BOT) as gw:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(locale="zh-CN").new_page()
            page.goto(f"{gw.url}/chat")
            box = page.get_by_role("textbox")
            box.fill("绑定账号")
            box.press("Enter")
            link = page.get_by_role("link", name="在 Telegram 上继续")
            expect(link).to_be_visible(timeout=20_000)
            href = link.get_attribute("href") or ""
            assert link.get_attribute("target") == "_blank"
            browser.close()
        code = LINK.match(href).group(1)  # type: ignore[union-attr]

        from kb.crypto import reset_keyring

        monkeypatch.setenv("REFDESK_HOME", str(tmp_path))  # the gateway's key ring
        get_settings.cache_clear()
        reset_keyring()

        async def tap() -> tuple[int, int, str]:
            h, router = await _harness(fake_tg, f"sqlite:///{tmp_path / 'refdesk.db'}")
            try:
                h.fake.command(3010, "start", f"link{code}")
                (done,) = await h.replies(3010)

                def patrons(session):  # type: ignore[no-untyped-def]
                    from kb.patrons.models import ChannelIdentity

                    rows = session.query(ChannelIdentity).all()
                    return {r.channel: r.patron_id for r in rows}

                ids = h.db.run_sync(patrons)
                return ids["web"], ids[CHANNEL], done
            finally:
                await h.channel.stop()
                await router.close()

        web, telegram, done = asyncio.run(tap())
        assert web == telegram
        assert done == "绑定成功：这里已经和您的网页咨询连在一起了。"
