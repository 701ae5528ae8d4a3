"""Small pieces of the WeChat channel: crypto, XML, rendering, dedupe, the in-flight turns."""

from __future__ import annotations

import asyncio
import base64
import os
import uuid

import pytest

from bot.channels.wechat import crypto, render, wire
from bot.channels.wechat.inflight import InFlight, drain
from bot.replies import Button, Reply
from tests.fixtures.wechat_client import new_aes_key, wechat_decrypt, wechat_encrypt


def test_encryption_matches_the_simulators_independent_implementation():
    key_text = new_aes_key()
    key = crypto.decode_aes_key(key_text)
    message = "<xml><Content><![CDATA[你好 library]]></Content></xml>".encode()
    ours = crypto.encrypt(key, "wxappid", message)
    assert wechat_decrypt(key_text, ours) == (message, "wxappid")
    theirs = wechat_encrypt(key_text, "wxappid", message)
    assert crypto.decrypt(key, "wxappid", theirs) == message


@pytest.mark.parametrize("size", [0, 1, 11, 12, 43, 44, 1000])
def test_padding_fills_whole_32_byte_blocks(size):
    key = os.urandom(32)
    encrypted = crypto.encrypt(key, "wx", b"x" * size)
    assert len(base64.b64decode(encrypted)) % 32 == 0
    assert crypto.decrypt(key, "wx", encrypted) == b"x" * size


def test_decryption_refuses_garbage_and_other_appids():
    key = os.urandom(32)
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(key, "wx", "not base64!!")
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(key, "wx", base64.b64encode(b"short").decode())
    with pytest.raises(crypto.CryptoError, match="AppID"):
        crypto.decrypt(key, "wx-ours", crypto.encrypt(key, "wx-theirs", b"<xml/>"))
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt_any([os.urandom(32)], "wx", crypto.encrypt(key, "wx", b"<xml/>"))


@pytest.mark.parametrize("bad", ["short", "!" * 43, "A" * 42 + "="])
def test_bad_encoding_aes_keys_are_refused(bad):
    with pytest.raises(ValueError):
        crypto.decode_aes_key(bad)


def test_signature_is_sha1_of_the_sorted_parts():
    # Sorting makes the order of token, timestamp and nonce irrelevant.
    assert crypto.signature("b", "a", "c") == crypto.signature("c", "b", "a")
    assert crypto.signature_ok(crypto.signature("t", "1", "n"), "n", "t", "1")
    assert not crypto.signature_ok("0" * 40, "t", "1", "n")


def test_cdata_end_marker_in_replies_is_escaped():
    xml = wire.text_reply("o1", "gh", "a ]]> b <tag> &amp;")
    assert wire.parse(xml.encode())["Content"] == "a ]]> b <tag> &amp;"


def test_reply_rendering_numbers_buttons_in_the_patrons_language():
    replies = [
        Reply("结果如下："),
        Reply(
            "要做什么？", buttons=[Button("检索馆藏", "/search_catalog"), Button("联系馆员", "/h")]
        ),
    ]
    assert render.as_text(replies, "zh") == (
        "结果如下：\n\n要做什么？\n1. 检索馆藏\n2. 联系馆员\n（回复数字选择）"
    )


def test_split_keeps_pieces_under_the_limit():
    text = "\n".join(["短行"] * 50 + ["长" * 3000])
    pieces = render.split(text, limit=200)
    assert all(len(p.encode()) <= 200 for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


async def test_a_turn_nobody_waits_for_any_more_is_sent_later():
    sent = []

    async def later(result):
        sent.append(result)

    gate = asyncio.Event()

    async def work():
        await gate.wait()
        return "answer"

    registry = InFlight(keep_seconds=1)
    pending = registry.start("k", work(), later)
    assert await pending.wait(0.05) is None  # timed out: "success" was answered
    assert registry.get("k") is pending
    gate.set()
    await asyncio.sleep(0.01)
    await drain()
    assert sent == ["answer"]
    # A late retry of the same message does not get it a second time.
    assert await pending.wait(0.05) is None


async def test_a_dropped_request_leaves_the_answer_to_the_retry():
    sent = []

    async def later(result):
        sent.append(result)

    gate = asyncio.Event()

    async def work():
        await gate.wait()
        return "answer"

    pending = InFlight(keep_seconds=1).start("k", work(), later)
    assert await pending.wait(5, gone=asyncio.sleep(0.01)) is None  # WeChat hung up
    retry = asyncio.create_task(pending.wait(5))
    gate.set()
    assert await retry == "answer"
    await drain()
    assert sent == []


def test_db_dedupe_claims_once_and_forgets_after_expiry(session):
    from datetime import timedelta

    import time_machine

    from kb.db import utcnow
    from kb.inbound import claim_delivery, purge_seen

    ttl = timedelta(minutes=10)
    assert claim_delivery(session, "wechat", "msg:1", ttl)
    assert not claim_delivery(session, "wechat", "msg:1", ttl)
    assert claim_delivery(session, "telegram", "msg:1", ttl)  # channels do not collide
    with time_machine.travel(utcnow() + ttl + timedelta(seconds=1), tick=False):
        assert purge_seen(session) == 2
        assert claim_delivery(session, "wechat", "msg:1", ttl)


@pytest.mark.redis
async def test_redis_dedupe_claims_once():
    from bot.channels.wechat.dedupe import RedisDeduper

    dedupe = RedisDeduper("redis://127.0.0.1:6379/0", ttl_seconds=5)
    key = f"msg:{uuid.uuid4()}"
    try:
        assert await dedupe.first_time(key)
        assert not await dedupe.first_time(key)
    finally:
        await dedupe.close()
