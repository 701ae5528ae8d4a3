"""``/webhooks/wechat``: the official account's server URL.

GET  verifies the URL (echoes ``echostr`` when the signature is right).
POST receives a message or event, plain or encrypted ("safe mode"), and answers
in the HTTP response when the answer is ready within ``wechat_passive_reply_seconds``
(WeChat gives up after 5 s), otherwise with ``success`` and sends the answer later
through the customer-service API.

Every request must carry a valid signature and a fresh timestamp; bodies are size
capped and parsed without DTDs or entities. Refusals are logged, never raised.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from bot.channels.wechat import crypto, render, texts, wire
from bot.channels.wechat.config import WeChatConfig
from bot.channels.wechat.customer_service import CustomerServiceApi
from bot.channels.wechat.dedupe import Deduper, delivery_id
from bot.channels.wechat.inbound import Answer, answer
from bot.channels.wechat.inflight import InFlight
from bot.channels.wechat.later import send_later
from bot.replies import Reply
from bot.router import Router
from kb.inbound.service import delivery_key

log = logging.getLogger("refdesk.wechat")
router = APIRouter()
PATH = "/webhooks/wechat"
SUCCESS = "success"  # what WeChat wants when there is nothing to say (now)


@dataclass
class WeChatChannel:
    config: WeChatConfig
    router: Router
    api: CustomerServiceApi
    deduper: Deduper
    inflight: InFlight[Answer]

    async def close(self) -> None:
        await self.api.close()
        await self.deduper.close()


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _channel(request: Request) -> WeChatChannel:
    return request.app.state.wechat  # type: ignore[no-any-return]


def _refuse(request: Request, exc: Refused) -> Response:
    client = request.client.host if request.client else "?"
    log.warning("wechat webhook refused (%s) from %s: %s", exc.status, client, exc.reason)
    metrics = request.app.state.refdesk.metrics
    metrics.errors.labels(f"wechat_{exc.status}").inc()
    return PlainTextResponse(exc.reason, status_code=exc.status)


def _check_signature(config: WeChatConfig, params: dict[str, str]) -> None:
    timestamp, nonce = params.get("timestamp", ""), params.get("nonce", "")
    given = params.get("signature", "")
    if not (timestamp and nonce and given):
        raise Refused(403, "signature, timestamp and nonce are required")
    if not crypto.signature_ok(given, config.token, timestamp, nonce):
        raise Refused(403, "bad signature")
    if not timestamp.isdecimal() or abs(time.time() - int(timestamp)) > config.timestamp_window:
        raise Refused(403, "stale or malformed timestamp")


@router.get(PATH)
async def verify_url(request: Request) -> Response:
    channel = _channel(request)
    params = dict(request.query_params)
    try:
        _check_signature(channel.config, params)
    except Refused as exc:
        return _refuse(request, exc)
    return PlainTextResponse(params.get("echostr", ""))


async def _read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdecimal() and int(declared) > limit:
        raise Refused(413, f"body over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Refused(413, f"body over {limit} bytes")
    return bytes(body)


@dataclass
class _Inbound:
    fields: dict[str, str]
    key: bytes | None  # the EncodingAESKey that opened it (None: plain mode)


def _open(config: WeChatConfig, params: dict[str, str], body: bytes) -> _Inbound:
    try:
        outer = wire.parse(body)
    except wire.BadXml as exc:
        raise Refused(400, str(exc)) from exc
    if params.get("encrypt_type", "raw") != "aes":
        return _Inbound(outer, None)
    encrypted = outer.get("Encrypt", "")
    if not encrypted:
        raise Refused(400, "safe mode message without Encrypt")
    if not config.aes_keys:
        raise Refused(400, "safe mode message but no EncodingAESKey is configured")
    if not crypto.signature_ok(
        params.get("msg_signature", ""),
        config.token,
        params["timestamp"],
        params["nonce"],
        encrypted,
    ):
        raise Refused(403, "bad msg_signature")
    try:
        inner, key = crypto.decrypt_any(config.aes_keys, config.appid, encrypted)
    except crypto.CryptoError as exc:
        raise Refused(400, f"cannot decrypt: {exc}") from exc
    try:
        return _Inbound(wire.parse(inner), key)
    except wire.BadXml as exc:
        raise Refused(400, f"encrypted {exc}") from exc


@router.post(PATH)
async def receive(request: Request) -> Response:
    channel = _channel(request)
    config = channel.config
    params = dict(request.query_params)
    try:
        _check_signature(config, params)
        body = await _read_capped(request, config.max_body_bytes)
        inbound = _open(config, params, body)
        fields = inbound.fields
        for name in ("FromUserName", "ToUserName", "MsgType", "CreateTime"):
            if not fields.get(name):
                raise Refused(400, f"message without {name}")
        if params.get("openid") and params["openid"] != fields["FromUserName"]:
            raise Refused(400, "openid in the URL differs from FromUserName")
    except Refused as exc:
        return _refuse(request, exc)

    raw_id = delivery_id(fields)
    pending = channel.inflight.get(raw_id)
    if pending is None:
        if not await channel.deduper.first_time(raw_id):
            # Seen already, and not in this process's memory: answered or being
            # answered elsewhere.
            return PlainTextResponse(SUCCESS)
        openid = fields["FromUserName"]
        outbound_key = "wechat-reply:" + delivery_key("wechat", raw_id)

        async def deliver(result: Answer) -> None:
            text = render.as_text(result.replies, result.language)
            if text:
                await send_later(channel.router.db, channel.api, openid, text, outbound_key)

        pending = channel.inflight.start(raw_id, _answer_safely(channel, fields), on_later=deliver)
    result = await pending.wait(config.passive_seconds, gone=_disconnected(request))
    if result is None:
        return PlainTextResponse(SUCCESS)
    text = render.as_text(result.replies, result.language)
    if not text:
        return PlainTextResponse(SUCCESS)
    if len(text.encode()) > render.MAX_TEXT_BYTES:
        # Too long for one passive reply: send it in pieces through the API.
        pending.send_later()
        return PlainTextResponse(SUCCESS)
    xml = wire.text_reply(fields["FromUserName"], fields["ToUserName"], text)
    if inbound.key is not None:
        xml = _encrypt_reply(config, inbound.key, xml)
    return Response(xml, media_type="application/xml; charset=utf-8")


async def _disconnected(request: Request) -> None:
    """Returns when the client (WeChat) closes the connection; the body is read by now."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _answer_safely(channel: WeChatChannel, fields: dict[str, str]) -> Answer:
    try:
        return await answer(channel.router, channel.config.menu, fields)
    except Exception:
        log.exception("wechat message could not be handled")
        return Answer([Reply(text=texts.text("failed", None), speaker="system", kind="notice")])


def _encrypt_reply(config: WeChatConfig, key: bytes, xml: str) -> str:
    # Answer with the key that opened the message: during a key change that is the
    # key this WeChat server still uses.
    encrypted = crypto.encrypt(key, config.appid, xml.encode("utf-8"))
    timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
    signature = crypto.signature(config.token, timestamp, nonce, encrypted)
    return wire.encrypted_reply(encrypted, signature, timestamp, nonce)
