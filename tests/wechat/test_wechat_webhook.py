"""The WeChat webhook over real HTTP: verification, signatures, safe mode, hostile XML."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from kb.conversations import Message, Speaker
from kb.db import session_scope
from kb.privacy import notice
from tests.fixtures.wechat_client import (
    WeChatSimulator,
    message_xml,
    new_aes_key,
    sha1_signature,
    wechat_encrypt,
)
from tests.wechat.conftest import APPID, TOKEN

OPENID = "oAbCdEfGhIjKlMnOpQrStUvWxYz0"


def test_url_verification_echoes_echostr(gateway):
    sim = gateway.simulator()
    resp = sim.verify_url("echo-1234567")
    assert resp.status_code == 200 and resp.text == "echo-1234567"


def test_url_verification_with_a_bad_signature_is_refused(gateway, caplog):
    sim = gateway.simulator()
    params = sim.signed_params({"echostr": "x"})
    params["signature"] = "0" * 40
    with caplog.at_level(logging.WARNING, "refdesk.wechat"):
        resp = sim.verify_url("x", params=params)
    assert resp.status_code == 403 and "x" not in resp.text.replace("refused", "")
    assert "bad signature" in caplog.text


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
def test_text_message_is_answered_in_the_http_response(gateway, safe):
    sim = gateway.simulator(safe=safe)
    delivery = sim.text(OPENID, "hello library")
    assert delivery.status == 200 and delivery.attempts == 1
    assert delivery.text == "echo: hello library"
    assert delivery.reply["ToUserName"] == OPENID
    assert delivery.reply["FromUserName"] == sim.account
    assert delivery.reply["MsgType"] == "text"
    if safe:
        assert b"echo" not in delivery.body  # the reply itself is encrypted
    assert gateway.engine.calls == ["hello library"]


def test_the_first_reply_carries_the_privacy_notice_once(gateway):
    sim = gateway.simulator()
    first = sim.text(OPENID, "hello library")
    assert first.full_text == "echo: hello library\n\n" + notice.text("en")
    again = sim.text(OPENID, "hello again")
    assert again.full_text == "echo: hello again"


def test_transcript_keeps_wechat_messages(gateway, db_url):
    gateway.simulator().text(OPENID, "你好")
    with session_scope(db_url) as session:
        lines = session.scalars(select(Message).order_by(Message.id)).all()
        assert [(m.speaker, m.text) for m in lines] == [
            (Speaker.PATRON, "你好"),
            (Speaker.BOT, "echo: 你好"),
        ]


def test_wrong_signature_and_tampered_ciphertext_are_refused(gateway):
    sim = gateway.simulator(safe=True)
    params, body = sim.envelope(OPENID, message_xml(sim.fields(OPENID, "text", Content="hi")))
    bad = dict(params, signature="f" * 40)
    assert sim.post(body, bad).status_code == 403
    bad = dict(params, msg_signature="f" * 40)
    assert sim.post(body, bad).status_code == 403
    # A valid signature over a different body: msg_signature covers the ciphertext.
    other = wechat_encrypt(gateway.aes_key, APPID, b"<xml><MsgType>text</MsgType></xml>")
    assert sim.post(message_xml({"Encrypt": other}).encode(), params).status_code == 403
    assert gateway.engine.calls == []


def test_stale_and_future_timestamps_are_refused(gateway):
    for skew in (-301, 301):
        sim = gateway.simulator(clock_skew=skew)
        delivery = sim.text(OPENID, "hi")
        assert delivery.status == 403
    assert gateway.engine.calls == []


def test_missing_parameters_are_refused(gateway):
    sim = gateway.simulator()
    body = message_xml(sim.fields(OPENID, "text", Content="hi")).encode()
    assert sim.post(body, {}).status_code == 403


def test_message_for_another_appid_is_refused(gateway):
    sim = gateway.simulator(safe=True)
    sim.appid = "wx_someone_else_000"
    delivery = sim.text(OPENID, "hi")
    assert delivery.status == 400
    assert gateway.engine.calls == []


def test_openid_in_url_must_match_the_sender(gateway):
    sim = gateway.simulator()
    params, body = sim.envelope(OPENID, message_xml(sim.fields(OPENID, "text", Content="hi")))
    params["openid"] = "o-someone-else"
    assert sim.post(body, params).status_code == 400


@pytest.mark.parametrize("use", ["previous", "unknown"])
def test_key_rollover_accepts_current_and_previous_key(monkeypatch, wechat_settings, fake_api, use):
    from bot.app import create_app
    from kb.settings import get_settings
    from tests.wechat.conftest import FakeEngine, serve

    current, previous = new_aes_key(), new_aes_key()
    monkeypatch.setenv("REFDESK_WECHAT_AES_KEYS", f"{current},{previous}")
    get_settings.cache_clear()
    app = create_app(get_settings())
    app.state.refdesk.router.engine = FakeEngine()
    url, server = serve(app)
    try:
        for key in (current, previous if use == "previous" else new_aes_key()):
            sim = WeChatSimulator(url + "/webhooks/wechat", TOKEN, APPID, aes_key=key)
            delivery = sim.text(OPENID, "hi")
            if key in (current, previous):
                # Answered under the key WeChat used, so WeChat can read it.
                assert delivery.status == 200 and delivery.text == "echo: hi"
            else:
                assert delivery.status == 400
    finally:
        server.stop()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE xml [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>2</MsgId></xml>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/evil.dtd">
<xml><MsgType>text</MsgType></xml>"""


@pytest.mark.parametrize(
    "body",
    [
        BILLION_LAUGHS,
        XXE,
        EXTERNAL_DTD,
        b"<xml><Content>unclosed",
        b"not xml at all",
        b"<root><MsgType>text</MsgType></root>",
        b"\xff\xfe<\x00x\x00",
        b"",
    ],
    ids=[
        "billion-laughs",
        "xxe",
        "external-dtd",
        "unclosed",
        "text",
        "wrong-root",
        "utf16",
        "empty",
    ],
)
@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
def test_hostile_or_malformed_xml_is_a_400_and_a_log_line(gateway, caplog, body, safe):
    sim = gateway.simulator(safe=safe)
    if safe:
        # Hostile XML inside a correctly encrypted and signed envelope.
        encrypted = wechat_encrypt(gateway.aes_key, APPID, body)
        params = sim.signed_params({"encrypt_type": "aes"})
        params["msg_signature"] = sha1_signature(
            TOKEN, params["timestamp"], params["nonce"], encrypted
        )
        body = message_xml({"ToUserName": sim.account, "Encrypt": encrypted}).encode()
    else:
        params = sim.signed_params()
    with caplog.at_level(logging.WARNING, "refdesk.wechat"):
        resp = sim.post(body, params)
    assert resp.status_code == 400
    assert "refused (400)" in caplog.text
    assert "root:" not in resp.text  # nothing of /etc/passwd
    assert gateway.engine.calls == []
    # The gateway is still answering.
    assert gateway.simulator().text(OPENID, "still there?").text == "echo: still there?"


def test_oversize_body_is_refused_before_parsing(gateway):
    sim = gateway.simulator()
    huge = message_xml(sim.fields(OPENID, "text", Content="书" * 40_000)).encode()
    assert len(huge) > 64 * 1024
    assert sim.post(huge).status_code == 413
    assert gateway.engine.calls == []


def test_message_without_required_fields_is_a_400(gateway):
    sim = gateway.simulator()
    assert sim.post(b"<xml><MsgType>text</MsgType></xml>").status_code == 400


def test_webhook_is_absent_without_a_token(monkeypatch, db_url):
    from fastapi.testclient import TestClient

    from bot.app import create_app
    from kb.settings import get_settings

    monkeypatch.setenv("REFDESK_DATABASE_URL", db_url)
    monkeypatch.delenv("REFDESK_WECHAT_TOKEN", raising=False)
    get_settings.cache_clear()
    with TestClient(create_app(get_settings())) as client:
        assert client.get("/webhooks/wechat").status_code == 404
