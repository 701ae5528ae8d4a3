"""The customer-service sender the outbound worker uses."""

from __future__ import annotations

import pytest

from bot.channels.wechat.config import WeChatConfig
from bot.channels.wechat.customer_service import (
    CustomerServiceApi,
    OutsideReplyWindow,
    PatronUnreachable,
    WeChatConfigError,
    WeChatTransientError,
)
from bot.replies import Button
from tests.wechat.conftest import APPID, SECRET


@pytest.fixture
async def api(fake_api):
    client = CustomerServiceApi(
        WeChatConfig(token="t", appid=APPID, appsecret=SECRET, api_base=fake_api.url)
    )
    yield client
    await client.close()


async def test_sends_text_with_buttons_as_numbered_lines(api, fake_api):
    buttons = [
        Button("Search the catalog", "/search_catalog"),
        {"title": "Talk to a librarian", "payload": "/human_handoff"},
    ]
    assert await api.send_text("o1", "What next?", buttons, language="en") == 1
    assert fake_api.sent[0].touser == "o1"
    assert fake_api.sent[0].content == (
        "What next?\n1. Search the catalog\n2. Talk to a librarian\n(Reply with a number to choose.)"
    )


async def test_access_token_is_cached_and_renewed_when_refused(api, fake_api):
    await api.send_text("o1", "one")
    await api.send_text("o1", "two")
    assert fake_api.token_requests() == 1
    fake_api.revoke_tokens()  # e.g. another process fetched a new token
    await api.send_text("o1", "three")
    assert fake_api.token_requests() == 2
    assert [s.content for s in fake_api.sent] == ["one", "two", "three"]


@pytest.mark.parametrize(
    ("errcode", "error"),
    [(45015, OutsideReplyWindow), (-1, WeChatTransientError), (43004, PatronUnreachable)],
)
async def test_errors_are_sorted_for_the_caller(api, fake_api, errcode, error):
    fake_api.fail_next(errcode)
    with pytest.raises(error) as caught:
        await api.send_text("o1", "hello")
    assert caught.value.errcode == errcode


async def test_wrong_appsecret_is_a_configuration_error(fake_api):
    client = CustomerServiceApi(
        WeChatConfig(token="t", appid=APPID, appsecret="wrong", api_base=fake_api.url)
    )
    with pytest.raises(WeChatConfigError):
        await client.send_text("o1", "hello")
    await client.close()


async def test_network_failure_is_transient():
    client = CustomerServiceApi(
        WeChatConfig(
            token="t", appid=APPID, appsecret=SECRET, api_base="http://127.0.0.1:9", api_timeout=1.0
        )
    )
    with pytest.raises(WeChatTransientError):
        await client.send_text("o1", "hello")
    await client.close()


async def test_the_outbound_worker_sender_maps_wechat_answers_to_outcomes(api, fake_api):
    from bot.channels.wechat.sender import WeChatSender
    from bot.outbound import Outgoing, SendRejected, SendRetry, SendUnreachable

    sender = WeChatSender(api)
    push = Outgoing(
        message_id="42",
        address="o7",
        text="您的文献传递申请 DD-2026-000001 已送达",
        buttons=(Button("查看状态", "/ticket_status"),),
        language="zh",
        links=("https://desk.example.org/delivery/files/abc",),
    )
    await sender.send(push)
    assert fake_api.sent[-1].touser == "o7"
    assert "DD-2026-000001" in fake_api.sent[-1].content
    assert "1. 查看状态" in fake_api.sent[-1].content
    assert "https://desk.example.org/delivery/files/abc" in fake_api.sent[-1].content
    for errcode, outcome in [(45015, SendRejected), (43004, SendUnreachable), (-1, SendRetry)]:
        fake_api.fail_next(errcode)
        with pytest.raises(outcome):
            await sender.send(push)
