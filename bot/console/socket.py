"""The console's WebSocket: live queue snapshots for everyone, and for each
librarian the lines of their chats. While it is open the server marks the
librarian as seen every few seconds; when it closes the marks stop, and after
the grace period their chats go back to the queue (bot.live.sweeper)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from bot.console.auth import SESSION_COOKIE, _lookup
from bot.db import RETRY_AFTER_SECONDS, StorageUnavailable
from bot.live import steps
from bot.live.desk import CONSOLES, staff_key
from bot.state import AppState

router = APIRouter()


@router.websocket("/console/ws")
async def console_socket(ws: WebSocket) -> None:
    state: AppState = ws.app.state.refdesk
    origin = ws.headers.get("origin")
    host = ws.headers.get("host", "")
    if origin is not None and origin not in (f"http://{host}", f"https://{host}"):
        await ws.close(code=4403)
        return
    who = await state.db.run(_lookup, ws.cookies.get(SESSION_COOKIE, ""))
    if who is None:
        await ws.close(code=4401)
        return
    await ws.accept()

    async def send(frame: dict[str, Any]) -> None:
        if ws.application_state == WebSocketState.CONNECTED:
            await ws.send_json(frame)

    keys = (CONSOLES, staff_key(who.id))
    for key in keys:
        state.hub.subscribe(key, send)
    s = state.settings
    beat = max(0.5, min(5.0, s.console_presence_seconds / 3, s.console_grace_seconds / 3))

    async def heartbeat() -> None:
        while True:
            # A database outage must not end the heartbeat, or the librarian's chats
            # would go back to the queue once the database is back.
            with contextlib.suppress(StorageUnavailable):
                await state.db.run(steps.touch, who.id)
            await asyncio.sleep(beat)

    async def first_snapshot() -> None:
        # Opened during a database outage: the socket stays open and the queue comes
        # once the database is back (a failed query must not drop the librarian).
        while True:
            try:
                snapshot = await state.db.run(steps.queue_state, s)
            except StorageUnavailable:
                await asyncio.sleep(RETRY_AFTER_SECONDS)
                continue
            await send(snapshot.console)
            return

    task = asyncio.create_task(heartbeat())
    snapshot_task = asyncio.create_task(first_snapshot())
    try:
        while True:
            raw = await ws.receive_text()
            with contextlib.suppress(ValueError):
                if json.loads(raw).get("type") == "ping":
                    await send({"type": "pong"})
    except WebSocketDisconnect:
        pass
    finally:
        task.cancel()
        snapshot_task.cancel()
        for key in keys:
            state.hub.unsubscribe(key, send)
