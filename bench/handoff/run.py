"""Live-chat fan-out benchmark: 200 patrons, 10 librarians, one gateway vs two
gateways with Redis. Each librarian claims 20 chats; every patron sends messages
over the web-chat WebSocket; we time each line from the patron's send to its
arrival on the owning librarian's console WebSocket (and the reverse direction).

No engine is involved (in human mode the engine is not called), so this measures
the gateway: transcript write, owner look-up, fan-out.

    .venv/bin/python -m bench.handoff.run [--patrons 200] [--librarians 10] [--messages 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import websockets

from bench.machine import describe
from tests.console.conftest import PASSWORD, Gateways, Librarian, redis_up
from tests.support.stack import free_port


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def setup(home: Path, gateways: int, librarians: int) -> Gateways:
    from kb.console.logins import set_password
    from kb.migrate import upgrade
    from kb.staff.service import add_staff

    env = {
        "REFDESK_HOME": str(home),
        "REFDESK_DATABASE_URL": f"sqlite:///{home / 'refdesk.db'}",
        "REFDESK_ENGINE_PORT": str(free_port()),
        "REFDESK_CONSOLE_SECURE_COOKIES": "false",
        "REFDESK_REDIS_URL": "redis://127.0.0.1:6379/0" if gateways > 1 else "",
    }
    gw = Gateways(home, env)
    with gw.db():
        upgrade(env["REFDESK_DATABASE_URL"])
    with gw.db() as session:
        for i in range(librarians):
            add_staff(session, f"lib{i:02d}", library_code=None)
            set_password(session, f"lib{i:02d}", PASSWORD)
    for _ in range(gateways):
        gw.start()
    return gw


async def run(
    gw: Gateways, patrons: int, librarians: int, messages: int, gap: tuple[float, float]
) -> dict[str, list[float]]:
    from kb.console.queue import request_chat
    from kb.conversations import conversation_for

    n = len(gw.urls)
    libs = [Librarian(gw.urls[i % n], f"lib{i:02d}") for i in range(librarians)]
    for lib in libs:
        lib.post("/status", {"status": "online"})
    sent: dict[str, float] = {}
    to_lib: list[float] = []
    to_patron: list[float] = []
    done = asyncio.Event()
    expected = patrons * messages

    async def console(lib: Librarian) -> None:
        url = lib.url.replace("http", "ws") + "/console/ws"
        async with websockets.connect(
            url, additional_headers={"Cookie": lib.cookie_header()}
        ) as ws:
            async for raw in ws:
                f = json.loads(raw)
                if f.get("type") == "line" and f.get("speaker") == "patron" and f["text"] in sent:
                    to_lib.append(time.perf_counter() - sent.pop(f["text"]))
                    if len(to_lib) >= expected:
                        done.set()

    consoles = [asyncio.create_task(console(lib)) for lib in libs]
    await asyncio.sleep(1)
    # Patrons connect to the *other* gateway than their librarian where there are two.
    sockets = []
    chat_ids = []
    for p in range(patrons):
        lib_index = p % librarians
        url = gw.urls[(lib_index + 1) % n].replace("http", "ws") + "/ws/chat"
        ws = await websockets.connect(url)
        token = json.loads(await ws.recv())["session"]
        with gw.db() as session:
            conv = conversation_for(session, "web", token)
            chat_ids.append(request_chat(session, conv, "intent").id)
        sockets.append(ws)
    async with httpx.AsyncClient(timeout=30) as http:
        for p, chat_id in enumerate(chat_ids):
            lib = libs[p % librarians]
            r = await http.post(
                f"{lib.url}/console/api/chats/{chat_id}/claim",
                headers={"X-CSRF-Token": lib.csrf, "Cookie": lib.cookie_header()},
            )
            assert r.status_code == 200, r.text

        reply_sent: dict[str, float] = {}

        async def patron(p: int, ws) -> None:  # type: ignore[no-untyped-def]
            async def reader() -> None:
                async for raw in ws:
                    f = json.loads(raw)
                    if f.get("speaker") == "librarian" and f.get("text") in reply_sent:
                        to_patron.append(time.perf_counter() - reply_sent.pop(f["text"]))

            task = asyncio.create_task(reader())
            for m in range(messages):
                await asyncio.sleep(random.uniform(*gap))
                text = f"p{p}-m{m}"
                sent[text] = time.perf_counter()
                await ws.send(json.dumps({"type": "message", "text": text}))
            await asyncio.sleep(0)
            return task  # type: ignore[return-value]

        readers = await asyncio.gather(*(patron(p, ws) for p, ws in enumerate(sockets)))
        try:
            await asyncio.wait_for(done.wait(), timeout=120 + messages * gap[1])
        except TimeoutError:
            print(f"  only {len(to_lib)} of {expected} lines arrived")
        # The reverse direction: each librarian answers each of their patrons once.
        for p, chat_id in enumerate(chat_ids):
            lib = libs[p % librarians]
            text = f"reply-{p}"
            reply_sent[text] = time.perf_counter()
            await http.post(
                f"{lib.url}/console/api/chats/{chat_id}/reply",
                json={"text": text},
                headers={"X-CSRF-Token": lib.csrf, "Cookie": lib.cookie_header()},
            )
        await asyncio.sleep(3)
    for t in [*consoles, *readers]:
        t.cancel()
    for ws in sockets:
        await ws.close()
    return {"patron_to_librarian": to_lib, "librarian_to_patron": to_patron}


def summary(name: str, values: list[float]) -> str:
    if not values:
        return f"| {name} | 0 | – | – | – |"
    ms = [v * 1000 for v in values]
    return f"| {name} | {len(ms)} | {statistics.median(ms):.1f} | {pct(ms, 0.95):.1f} | {max(ms):.1f} |"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patrons", type=int, default=200)
    ap.add_argument("--librarians", type=int, default=10)
    ap.add_argument("--messages", type=int, default=5)
    ap.add_argument("--gap", default="2-6", help="seconds between a patron's messages, min-max")
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = ap.parse_args()
    lo, hi = (float(x) for x in args.gap.split("-"))
    machine = describe()
    rows = []
    for gateways in (1, 2):
        if gateways == 2 and not redis_up():
            print("Redis is not up: skipping two gateways")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            gw = setup(Path(tmp), gateways, args.librarians)
            try:
                res = asyncio.run(run(gw, args.patrons, args.librarians, args.messages, (lo, hi)))
            finally:
                gw.stop()
        label = "1 gateway" if gateways == 1 else "2 gateways + Redis"
        rows.append(summary(f"{label}, patron → librarian", res["patron_to_librarian"]))
        rows.append(summary(f"{label}, librarian → patron", res["librarian_to_patron"]))
        print("\n".join(rows[-2:]))
    text = f"""# Live-chat hand-over benchmark

`.venv/bin/python -m bench.handoff.run --patrons {args.patrons} --librarians {args.librarians} --messages {args.messages} --gap {args.gap}`

{args.patrons} web-chat patrons in human mode, {args.librarians} librarians (each owning
{args.patrons // args.librarians} chats), {args.messages} messages per patron sent {lo:g}–{hi:g} s apart (about {args.patrons * 2 / (lo + hi):.0f} lines/s offered).
With two gateways every patron is connected to the gateway its librarian is *not*
on, so every line crosses Redis. SQLite database, no engine (human mode never calls it).
Latency is from the patron's WebSocket send to the line's arrival on the owning
librarian's console WebSocket (and, for the reverse direction, from the librarian's
reply POST to its arrival in the patron's socket).

Machine: {machine}

| run | lines | p50 ms | p95 ms | max ms |
|---|---|---|---|---|
{chr(10).join(rows)}
"""
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
