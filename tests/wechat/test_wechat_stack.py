"""WeChat conversations through the real assistant (trained model, action server,
gateway started by `refdesk up`), in Chinese and English, and linking a WeChat
follower with a web-chat patron on it."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from sqlalchemy import select

from kb.faq import answer_for
from kb.patrons import ChannelIdentity, Patron, identity_for
from tests.fixtures.fake_wechat_api import FakeWeChatApi
from tests.fixtures.wechat_client import Delivery, WeChatSimulator, new_aes_key
from tests.support.chat import ChatClient
from tests.wechat.conftest import APPID, SECRET, TOKEN

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def wechat_stack(tmp_path_factory):  # type: ignore[no-untyped-def]
    from tests.support.stack import start_stack

    api = FakeWeChatApi(APPID, SECRET).start()
    key = new_aes_key()
    stack = start_stack(
        tmp_path_factory.mktemp("wechat-stack"),
        {
            "REFDESK_WECHAT_TOKEN": TOKEN,
            "REFDESK_WECHAT_APPID": APPID,
            "REFDESK_WECHAT_APPSECRET": SECRET,
            "REFDESK_WECHAT_AES_KEY": key,
            "REFDESK_WECHAT_API_BASE": api.url,
        },
    )
    stack.wechat_api = api  # type: ignore[attr-defined]
    stack.wechat_key = key  # type: ignore[attr-defined]
    yield stack
    stack.stop()
    api.stop()


def _sim(stack) -> WeChatSimulator:  # type: ignore[no-untyped-def]
    return WeChatSimulator(
        stack.gateway_url + "/webhooks/wechat", TOKEN, APPID, aes_key=stack.wechat_key
    )


def _answer(stack, delivery: Delivery, openid: str) -> str:  # type: ignore[no-untyped-def]
    """The reply the patron sees: passive, or (engine slower than 4.5 s) sent later."""
    if delivery.text:
        return delivery.text
    api = stack.wechat_api
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        mine = [s.content for s in api.sent if s.touser == openid]
        if mine:
            return mine[-1]
        time.sleep(0.1)
    raise AssertionError(f"no reply for {openid}: {delivery}")


@pytest.mark.parametrize(
    ("openid", "question", "key", "language"),
    [
        ("oStackZh000000000000000000", "图书馆周末几点关门", "opening_hours", "zh"),
        ("oStackEn000000000000000000", "how do i connect to the wifi in the library", "wifi", "en"),
    ],
)
def test_faq_question_over_wechat_in_both_languages(wechat_stack, openid, question, key, language):
    sim = _sim(wechat_stack)
    greeting = _answer(
        wechat_stack, sim.text(openid, "你好" if language == "zh" else "hello"), openid
    )
    assert ("您好" in greeting) if language == "zh" else ("Hello" in greeting)
    reply = _answer(wechat_stack, sim.text(openid, question), openid)
    with wechat_stack.db() as session:
        expected = answer_for(session, key, language)
    assert expected and reply == expected


async def test_linking_web_chat_and_wechat_on_the_real_stack(wechat_stack):
    openid = "oStackLink0000000000000000"
    chat = await ChatClient(wechat_stack.ws_url).connect()
    try:
        await chat.say("hello")
        asked = await chat.say("link my account")
        code = re.search(r"\b(\d{6})\b", asked[0]["text"]).group(1)
    finally:
        await chat.close()
    sim = _sim(wechat_stack)
    delivery = await asyncio.to_thread(sim.text, openid, f"绑定 {code}")
    assert "绑定成功" in _answer(wechat_stack, delivery, openid)
    with wechat_stack.db() as session:
        web = identity_for(session, "web", chat.session)
        wechat = identity_for(session, "wechat", openid)
        assert wechat.patron_id == web.patron_id
        # The web patron's language preference ("hello" -> en) is the linked patron's.
        assert session.get(Patron, wechat.patron_id).language == "en"
        channels = session.scalars(
            select(ChannelIdentity.channel).where(ChannelIdentity.patron_id == web.patron_id)
        ).all()
        assert sorted(channels) == ["web", "wechat"]
