"""Abuse limits on a real gateway: messages per patron, chat sockets per address,
requests per address on the open endpoints (shared by two gateways through Redis),
and the security headers."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
import websockets

from tests.support.gateway import gateway_process


async def _open(ws_url: str):  # type: ignore[no-untyped-def]
    ws = await websockets.connect(ws_url)
    first = json.loads(await ws.recv())
    return ws, first


async def _until_turn_ends(ws) -> list[dict]:  # type: ignore[no-untyped-def]
    frames = []
    while True:
        frame = json.loads(await ws.recv())
        frames.append(frame)
        if frame["type"] == "typing" and not frame["on"] or frame["type"] == "error":
            return frames


async def test_a_patron_sending_too_fast_is_told_and_gets_the_text_back(tmp_path: Path) -> None:
    with gateway_process(tmp_path, limit_patron_messages="3/minute") as gw:
        ws, first = await _open(gw.ws_url)
        assert first["type"] == "session"
        for i in range(3):
            await ws.send(json.dumps({"type": "message", "text": f"问题 {i}"}))
            frames = await _until_turn_ends(ws)
            assert not any(f.get("code") == "rate_limited" for f in frames)
        await ws.send(json.dumps({"type": "message", "text": "第四个问题 fourth", "id": "m4"}))
        refused = (await _until_turn_ends(ws))[-1]
        assert refused["code"] == "rate_limited"
        assert refused["unsent"] == "第四个问题 fourth" and refused["id"] == "m4"
        assert 1 <= refused["retry_after"] <= 60 and "秒后再试" in refused["text"]
        # The socket stays usable, and another patron is not affected.
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await ws.recv())["type"] == "pong"
        other, _ = await _open(gw.ws_url)
        await other.send(json.dumps({"type": "message", "text": "hello"}))
        assert not any(f.get("code") == "rate_limited" for f in await _until_turn_ends(other))
        await ws.close()
        await other.close()


async def test_too_many_sockets_from_one_address_are_refused(tmp_path: Path) -> None:
    with gateway_process(tmp_path, limit_sockets_per_client="2") as gw:
        a, _ = await _open(gw.ws_url)
        b, _ = await _open(gw.ws_url)
        c, refused = await _open(gw.ws_url)
        assert refused["code"] == "too_many_sockets"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await c.recv()
        assert closed.value.rcvd.code == 1013
        await a.close()
        d, first = await _open(gw.ws_url)  # a freed place can be taken again
        assert first["type"] == "session"
        await b.close()
        await d.close()


def test_open_endpoints_are_limited_per_address_across_gateways(tmp_path: Path) -> None:
    # Two gateways of one desk (same database) share their counters through Redis.
    settings = {
        "limit_client_requests": "5/minute",
        "redis_url": "redis://127.0.0.1:6379/0",
        "database_url": f"sqlite:///{tmp_path / f'desk-{uuid.uuid4().hex}.db'}",
    }
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        gateway_process(tmp_path / "a", **settings) as a,
        gateway_process(tmp_path / "b", **settings) as b,
    ):
        link = "/openurl?url_ver=Z39.88-2004&rft.genre=article&rft.atitle=Deep+learning&rft.jtitle=Nature"
        answers = [httpx.get(gw.url + link).status_code for gw in (a, b, a, b, a)]
        assert 429 not in answers
        refused = httpx.get(b.url + link, headers={"Accept-Language": "en"})
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert "too fast" in refused.json()["message"]
        # Alert links share the address's budget; channel webhooks do not.
        assert httpx.get(a.url + "/alerts/unsubscribe/x").status_code == 429
        assert httpx.post(a.url + "/webhooks/telegram", json={}).status_code != 429
        # The chat page itself is not an open endpoint and carries the security headers.
        page = httpx.get(a.url + "/chat")
        assert page.status_code == 200
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Referrer-Policy"] == "same-origin"
