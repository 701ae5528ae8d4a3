"""``refdesk shell``: a terminal chat over the gateway's web-chat WebSocket.

It takes exactly the path a web patron takes (gateway, router, engine,
actions), so what works here works on the web. Buttons are shown numbered;
typing the number clicks one.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets

from kb.settings import Settings


def _print_frame(frame: dict[str, Any], buttons: list[dict[str, str]]) -> None:
    kind = frame.get("type")
    if kind in ("message", "notice", "error") and frame.get("speaker") != "patron":
        who = frame.get("speaker") or ("system" if kind != "message" else "bot")
        print(f"[{who}] {frame.get('text', '')}")
        for b in frame.get("buttons") or []:
            buttons.append(b)
            print(f"   ({len(buttons)}) {b['title']}")


async def run_terminal_chat(settings: Settings) -> None:
    session_file = settings.home / "shell.session"
    session = session_file.read_text().strip() if session_file.exists() else ""
    url = settings.gateway_url.replace("http", "ws", 1) + "/ws/chat"
    if session:
        url += f"?session={session}"
    try:
        ws = await websockets.connect(url, max_size=settings.max_frame_bytes)
    except OSError as exc:
        raise ConnectionError(
            f"The gateway is not running at {settings.gateway_url} ({exc}). "
            "Start it with `refdesk up` in another terminal."
        ) from exc
    buttons: list[dict[str, str]] = []
    print("Type a message; a number clicks a button; Ctrl-D quits.  输入消息；输入数字点击按钮。")
    async with ws:

        async def reader() -> None:
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("type") == "session":
                    session_file.parent.mkdir(parents=True, exist_ok=True)
                    session_file.write_text(frame["session"])
                elif frame.get("type") == "history":
                    for m in frame["messages"][-6:]:
                        _print_frame({"type": "message", **m}, buttons)
                else:
                    _print_frame(frame, buttons)

        read_task = asyncio.create_task(reader())
        try:
            while True:
                try:
                    line = await asyncio.to_thread(input, "")
                except EOFError:
                    break
                line = line.strip()
                if line.isdecimal() and 0 < int(line) <= len(buttons):
                    b = buttons[int(line) - 1]
                    frame = {"type": "button", "title": b["title"], "payload": b["payload"]}
                else:
                    frame = {"type": "message", "text": line}
                buttons.clear()
                await ws.send(json.dumps(frame, ensure_ascii=False))
        finally:
            read_task.cancel()
