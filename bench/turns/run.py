"""bench/turns: patrons over the web-chat WebSocket vs. the engine's REST channel alone.

Starts a stack the way `refdesk up` does (temporary state directory), then for 1, 10
and 50 concurrent patrons sends the same scripted turns (a) through the gateway's
WebSocket and (b) straight to the engine's REST channel, interleaved per level.
Reports p50/p95 latency, turns per second and errors, and the gateway's overhead
as the ratio of the two p50s. Writes bench/turns/RESULTS.md.

    .venv/bin/python -m bench.turns.run [--turns 8] [--levels 1 10 50]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import websockets

from bench.machine import describe
from tests.support.stack import start_stack

SCRIPT = [
    "你好",
    "图书馆周末几点关门",
    "what time does the library open on sunday",
    "有没有《三体》",
    "books about machine learning",
    "how do i connect to the wifi",
    "谢谢",
    "bye",
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def ws_patron(url: str, turns: int, latencies: list[float], errors: list[str]) -> None:
    try:
        async with websockets.connect(url, max_size=2**20) as ws:
            json.loads(await ws.recv())  # session
            for i in range(turns):
                text = SCRIPT[i % len(SCRIPT)]
                started = time.perf_counter()
                await ws.send(json.dumps({"type": "message", "text": text}))
                got_reply = False
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
                    if frame["type"] in ("message", "notice") and frame.get("speaker") != "patron":
                        got_reply = True
                        if frame.get("code") == "assistant_unavailable":
                            errors.append("assistant_unavailable")
                    if frame["type"] == "error":
                        errors.append(frame.get("code", "error"))
                    if frame["type"] == "typing" and not frame["on"]:
                        break
                latencies.append(time.perf_counter() - started)
                if not got_reply:
                    errors.append("no reply")
    except Exception as exc:  # a benchmark counts failures, it does not stop on them
        errors.append(f"{type(exc).__name__}: {exc}")


async def rest_patron(
    client: httpx.AsyncClient, url: str, turns: int, latencies: list[float], errors: list[str]
) -> None:
    sender = f"bench-{uuid.uuid4().hex}"
    for i in range(turns):
        started = time.perf_counter()
        try:
            resp = await client.post(
                url, json={"sender": sender, "message": SCRIPT[i % len(SCRIPT)]}
            )
            if resp.status_code != 200 or not resp.json():
                errors.append(f"HTTP {resp.status_code}")
        except httpx.HTTPError as exc:
            errors.append(type(exc).__name__)
        latencies.append(time.perf_counter() - started)


async def level(stack, patrons: int, turns: int, path: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    if path == "gateway":
        await asyncio.gather(
            *(ws_patron(stack.ws_url, turns, latencies, errors) for _ in range(patrons))
        )
    else:
        url = f"http://127.0.0.1:{stack.ports['engine']}/webhooks/rest/webhook"
        limits = httpx.Limits(max_connections=patrons + 5)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            await asyncio.gather(
                *(rest_patron(client, url, turns, latencies, errors) for _ in range(patrons))
            )
    elapsed = time.perf_counter() - started
    return {
        "p50": statistics.median(latencies) * 1000,
        "p95": pct(latencies, 0.95) * 1000,
        "tps": len(latencies) / elapsed,
        "errors": float(len(errors)),
        "error_kinds": dict(collections.Counter(errors)),
        "turns": float(len(latencies)),
    }


async def main(turns: int, levels: list[int]) -> str:
    machine = describe()
    with tempfile.TemporaryDirectory() as home:
        stack = await asyncio.to_thread(start_stack, Path(home))
        try:
            # Warm both paths (model caches, DB connections) before measuring.
            await level(stack, 2, 4, "engine")
            await level(stack, 2, 4, "gateway")
            rows = []
            for n in levels:
                engine = await level(stack, n, turns, "engine")
                gateway = await level(stack, n, turns, "gateway")
                rows.append((n, engine, gateway))
        finally:
            stack.stop()
    lines = [
        "| patrons | path | turns | p50 ms | p95 ms | turns/s | errors |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for n, engine, gateway in rows:
        for name, r in (("engine REST alone", engine), ("gateway WebSocket", gateway)):
            lines.append(
                f"| {n} | {name} | {r['turns']:.0f} | {r['p50']:.0f} | {r['p95']:.0f} | "
                f"{r['tps']:.1f} | {r['errors']:.0f} |"
            )
    lines += ["", "| patrons | gateway p50 / engine p50 | overhead at p50 |", "|---:|---:|---:|"]
    for n, engine, gateway in rows:
        ratio = gateway["p50"] / engine["p50"]
        lines.append(f"| {n} | {ratio:.2f} | {100 * (ratio - 1):+.0f}% |")
    kinds = [
        f"- {n} patrons, {name}: {r['error_kinds']}"
        for n, engine, gateway in rows
        for name, r in (("engine", engine), ("gateway", gateway))
        if r["error_kinds"]
    ]
    if kinds:
        lines += ["", "Errors by kind:", *kinds]
    table = "\n".join(lines)
    return f"Machine: {machine}\n\nEach patron sends {turns} turns from a fixed bilingual script.\n\n{table}\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 10, 50])
    args = parser.parse_args()
    report = asyncio.run(main(args.turns, args.levels))
    print(report)
    out = Path(__file__).with_name("RESULTS.md")
    out.write_text("# bench/turns: latest result\n\n" + report)
