"""The parsers behind the open HTTP endpoints, over HTTP against the real app: WeChat
webhook (signed, plain and safe mode), Telegram webhook (with its secret), OpenURL
page, draft and download tokens. Whatever arrives: 2xx, or 4xx with a reason; never 5xx.

The requests go through the ASGI app in process (Starlette's TestClient): the property
is about the handlers, and a real socket per example would make the suite minutes long.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.channels.wechat import crypto
from tests.fixtures.wechat_client import message_xml, new_aes_key, sha1_signature
from tests.fuzz.mutations import (
    FIXTURES,
    examples,
    lines_of,
    mutated_bytes,
    mutated_text,
    nasty_text,
)
from tests.wechat.conftest import FakeEngine

TOKEN, APPID, TG_SECRET = "fuzz-token", "wxfuzz0000000000", "fuzz_secret-token"
AES_KEY = new_aes_key()
FIXTURE_SETTINGS = settings(
    max_examples=examples(60), suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def client(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from bot.app import create_app
    from bot.channels.telegram.channel import TelegramChannel
    from bot.channels.telegram.handlers import Deps
    from kb.settings import Settings

    home = tmp_path_factory.mktemp("fuzz-gateway")
    shutil.copy(sqlite_template, home / "refdesk.db")
    settings_ = Settings(
        home=home,
        database_url=f"sqlite:///{home / 'refdesk.db'}",
        wechat_token=TOKEN,
        wechat_appid=APPID,
        wechat_aes_key=AES_KEY,
        wechat_api_base="http://127.0.0.1:9",  # nothing listens: no reply leaves the test
        wechat_passive_reply_seconds=0.05,
        telegram_token="123:fuzz",
        telegram_api_base="http://127.0.0.1:9/bot",
        telegram_webhook_url="https://example.invalid/webhooks/telegram",
        telegram_webhook_secret=TG_SECRET,
    )
    app = create_app(settings_)
    state = app.state.refdesk
    state.router.engine = FakeEngine()
    # The channel as the gateway builds it, not started (no Bot API here): updates the
    # webhook accepts wait in PTB's queue.
    state.telegram = TelegramChannel(
        settings_, Deps(settings_, state.db, state.router, state.metrics)
    )
    yield TestClient(app, raise_server_exceptions=False)


def assert_answered_or_refused_with_reason(response: Any) -> None:
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        assert response.text.strip(), "a refusal must say why"


# --- WeChat ---------------------------------------------------------------------------

REAL_WECHAT = [
    message_xml(fields).encode()
    for fields in (
        {"ToUserName": "gh_1", "FromUserName": "o1", "CreateTime": 1700000000,
         "MsgType": "text", "Content": "有没有《三体》", "MsgId": 1},
        {"ToUserName": "gh_1", "FromUserName": "o2", "CreateTime": 1700000000,
         "MsgType": "event", "Event": "subscribe"},
        {"ToUserName": "gh_1", "FromUserName": "o3", "CreateTime": 1700000000,
         "MsgType": "image", "PicUrl": "http://x/1.jpg", "MediaId": "m", "MsgId": 2},
    )
]  # fmt: skip
wechat_bodies = st.one_of(
    mutated_bytes(REAL_WECHAT),
    st.binary(max_size=200),
    st.just(b'<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Content>&a;</Content></xml>'),
)


def signed(extra: dict[str, str] | None = None, encrypted: str | None = None) -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), "n0nce"
    params = {
        "timestamp": timestamp,
        "nonce": nonce,
        "signature": sha1_signature(TOKEN, timestamp, nonce),
    }
    if encrypted is not None:
        params |= {
            "encrypt_type": "aes",
            "msg_signature": sha1_signature(TOKEN, timestamp, nonce, encrypted),
        }
    return params | (extra or {})


@FIXTURE_SETTINGS
@given(body=wechat_bodies)
def test_wechat_plain_mode_any_body(client: TestClient, body: bytes) -> None:
    assert_answered_or_refused_with_reason(
        client.post("/webhooks/wechat", params=signed(), content=body)
    )


@FIXTURE_SETTINGS
@given(inner=wechat_bodies, garble=st.one_of(st.none(), st.text(max_size=60)))
@example(inner=REAL_WECHAT[0], garble="\x80")  # was a 500: b64decode raises ValueError
def test_wechat_safe_mode_any_inner_message_or_ciphertext(
    client: TestClient, inner: bytes, garble: str | None
) -> None:
    encrypted = (
        garble
        if garble is not None
        else crypto.encrypt(crypto.decode_aes_key(AES_KEY), APPID, inner)
    )
    body = f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>".encode()
    response = client.post("/webhooks/wechat", params=signed(encrypted=encrypted), content=body)
    assert_answered_or_refused_with_reason(response)


@FIXTURE_SETTINGS
@given(params=st.dictionaries(st.sampled_from(["signature", "timestamp", "nonce", "echostr",
                                               "encrypt_type", "msg_signature", "openid"]),
                              nasty_text.filter(lambda t: "\x00" not in t), max_size=6))  # fmt: skip
def test_wechat_unsigned_or_forged_requests_are_refused(
    client: TestClient, params: dict[str, str]
) -> None:
    response = client.post("/webhooks/wechat", params=params, content=REAL_WECHAT[0])
    assert response.status_code == 403 and response.text.strip()


# --- Telegram ---------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | nasty_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(nasty_text, inner, max_size=4),
    max_leaves=20,
)
UPDATE_KEYS = ["message", "edited_message", "callback_query", "my_chat_member", "chat", "from",
               "text", "date", "message_id", "id", "data", "type", "entities"]  # fmt: skip
update_like = st.recursive(
    st.none() | st.integers() | nasty_text,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(UPDATE_KEYS), inner, max_size=5)
    ),
    max_leaves=25,
).map(lambda v: {"update_id": 1, "message": v})
telegram_bodies = st.one_of(
    update_like.map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=100),
)


@FIXTURE_SETTINGS
@given(body=telegram_bodies)
@example(body=b'{"update_id": 1, "message": 0}')  # was a 500: AttributeError in de_json
@example(body=b'{"update_id": 1, "message": []}')
@example(body=b'{"update_id": 1, "message": {"chat": "x"}}')
def test_telegram_webhook_any_body(client: TestClient, body: bytes) -> None:
    response = client.post(
        "/webhooks/telegram", content=body, headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
    )
    assert_answered_or_refused_with_reason(response)
    if response.status_code >= 400:
        assert response.json()["error"]


@FIXTURE_SETTINGS
@given(secret=st.text(max_size=40).filter(lambda s: s != TG_SECRET))
def test_telegram_webhook_without_the_secret_is_refused(client: TestClient, secret: str) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": quote(secret)} if secret else {}
    response = client.post("/webhooks/telegram", content=b'{"update_id": 1}', headers=headers)
    assert response.status_code == 403 and response.json()["error"]


# --- OpenURL and the tokens it hands out ------------------------------------------------

REAL_OPENURLS = lines_of(FIXTURES / "openurl" / "examples.txt")


@FIXTURE_SETTINGS
@given(link=st.one_of(mutated_text(REAL_OPENURLS), nasty_text))
@example(link="?pmid=%C2%B9")  # was a 500: "¹".isdigit() is True, int("¹") fails
def test_openurl_page_any_link(client: TestClient, link: str) -> None:
    query = link.split("?", 1)[-1]
    response = client.get("/openurl?" + quote(query, safe="=&%+"))
    assert_answered_or_refused_with_reason(response)
    if response.status_code == 400:
        # Patron-facing: the reason is there in both languages.
        assert "<html" in response.text.lower()


@FIXTURE_SETTINGS
@given(token=st.text(min_size=1, max_size=60).filter(lambda t: t.strip(" ./") != ""))
@example(token="1.²².abc")  # was a 500: "²²".isdigit() is True, int() fails
def test_draft_and_download_tokens_are_refused_not_crashed(client: TestClient, token: str) -> None:
    for path in ("/api/delivery/drafts/", "/delivery/files/"):
        response = client.get(path + quote(token, safe=""))
        assert response.status_code in (400, 404, 410), (path, response.text[:300])
        assert response.text.strip()
