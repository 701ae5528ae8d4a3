"""bench/turns: patrons over the web-chat WebSocket vs. the engine's channel alone.

Starts a stack the way `refdesk up` does (temporary state directory), then for 1, 10
and 50 concurrent patrons sends the same scripted turns (a) through the gateway's
WebSocket and (b) straight to the engine, the way the gateway itself calls it: the
gateway's own EngineClient (same pooled HTTP client and timeout; without the gateway's
turn slots, REFDESK_ENGINE_MAX_TURNS, so the engine takes every patron's turn at once),
the same `refdesk` channel, the same metadata (channel, language, button). So the
engine does the same work on both paths and the difference is the gateway. Each level
runs several rounds (and at least MIN_TURNS turns a path),
the two paths alternating which goes first, so a change in the machine's load hits
both. Reports p50/p95 latency, turns per second and errors, and the gateway's
overhead as the ratio of the two p50s. Writes bench/turns/RESULTS.md.

    .venv/bin/python -m bench.turns.run [--turns 8] [--rounds 3] [--levels 1 10 50]
        [--engine-max-turns N]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import re
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets

from bench.machine import describe
from bot.engine_client import EngineClient, EngineUnavailable
from kb.language import detect_language
from kb.settings import Settings
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


# Turns per path and level, at least (see rounds_for).
MIN_TURNS = 240
# A patron's pause between an answer and their next message (--pause-ms), both paths.
PAUSE = {"seconds": 0.0}


def unavailable_reasons(log: str) -> collections.Counter[str]:
    """The gateway logs why it told a patron the assistant was unavailable
    (bot.router): count those reasons, without the sender ids."""
    found = re.findall(r"assistant unavailable for \S+: (.*)", log)
    return collections.Counter(reason.strip()[:160] for reason in found)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def ws_patron(
    url: str, turns: int, latencies: list[float], errors: list[str], answered: list[float]
) -> None:
    try:
        async with websockets.connect(url, max_size=2**20) as ws:
            json.loads(await ws.recv())  # session
            for i in range(turns):
                text = SCRIPT[i % len(SCRIPT)]
                started = time.perf_counter()
                await ws.send(json.dumps({"type": "message", "text": text}))
                got_reply = False
                last_answer = None
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
                    if frame["type"] in ("message", "notice") and frame.get("speaker") != "patron":
                        got_reply = True
                        last_answer = time.perf_counter() - started
                        if frame.get("code") == "assistant_unavailable":
                            errors.append("assistant_unavailable")
                    if frame["type"] == "error":
                        errors.append(frame.get("code", "error"))
                    if frame["type"] == "typing" and not frame["on"]:
                        break
                latencies.append(time.perf_counter() - started)
                if last_answer is not None:
                    answered.append(last_answer)
                if not got_reply:
                    errors.append("no reply")
                await asyncio.sleep(PAUSE["seconds"])
    except Exception as exc:  # a benchmark counts failures, it does not stop on them
        errors.append(f"{type(exc).__name__}: {exc}")


async def engine_patron(
    engine: EngineClient, turns: int, latencies: list[float], errors: list[str]
) -> None:
    # What the gateway sends for a typed message (bot.router): the conversation's
    # language as the words show it, kept from earlier turns when they do not.
    sender = f"web-bench{uuid.uuid4().hex}"
    language: str | None = None
    for i in range(turns):
        text = SCRIPT[i % len(SCRIPT)]
        language = detect_language(text) or language
        started = time.perf_counter()
        try:
            reply = await engine.send(
                sender, text, {"channel": "web", "language": language, "button": False}
            )
            if not reply.messages:
                errors.append("no reply")
        except EngineUnavailable as exc:
            errors.append(str(exc).split(":", 1)[0])
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(PAUSE["seconds"])


@dataclass
class Run:
    """The turns of one path in one round."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # Gateway path: until the answer's last message, before "typing off" ends the turn
    # (the gateway writes the answer to the transcript in between).
    answered: list[float] = field(default_factory=list)
    # Gateway path: the engine's own time per turn as the gateway measured it (/metrics).
    engine_seconds: float = 0.0
    engine_turns: int = 0


async def run_path(stack, engine: EngineClient, patrons: int, turns: int, path: str) -> Run:  # type: ignore[no-untyped-def]
    run = Run()
    started = time.perf_counter()
    if path == "gateway":
        before = await engine_histogram(stack)
        await asyncio.gather(
            *(
                ws_patron(stack.ws_url, turns, run.latencies, run.errors, run.answered)
                for _ in range(patrons)
            )
        )
        after = await engine_histogram(stack)
        run.engine_seconds, run.engine_turns = after[0] - before[0], int(after[1] - before[1])
    else:
        await asyncio.gather(
            *(engine_patron(engine, turns, run.latencies, run.errors) for _ in range(patrons))
        )
    run.seconds = time.perf_counter() - started
    return run


async def engine_histogram(stack) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(sum, count) of the gateway's refdesk_engine_latency_seconds."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{stack.gateway_url}/metrics")).text
    found = dict(re.findall(r"^refdesk_engine_latency_seconds_(sum|count) (\S+)$", text, re.M))
    return float(found.get("sum", 0)), float(found.get("count", 0))


def summary(runs: list[Run]) -> dict[str, Any]:
    latencies = [t for r in runs for t in r.latencies]
    errors = [e for r in runs for e in r.errors]
    answered = [t for r in runs for t in r.answered]
    engine_turns = sum(r.engine_turns for r in runs)
    return {
        "answer_p50": statistics.median(answered) * 1000 if answered else None,
        "engine_mean": (
            sum(r.engine_seconds for r in runs) / engine_turns * 1000 if engine_turns else None
        ),
        "mean": statistics.mean(latencies) * 1000,
        "p50": statistics.median(latencies) * 1000,
        "p95": pct(latencies, 0.95) * 1000,
        "tps": len(latencies) / sum(r.seconds for r in runs),
        "errors": float(len(errors)),
        "error_kinds": dict(collections.Counter(errors)),
        "turns": float(len(latencies)),
    }


async def level(stack, engine: EngineClient, patrons: int, turns: int, rounds: int):  # type: ignore[no-untyped-def]
    """Both paths, ``rounds`` times, alternating which goes first."""
    runs: dict[str, list[Run]] = {"engine": [], "gateway": []}
    for r in range(rounds):
        for path in ("engine", "gateway") if r % 2 == 0 else ("gateway", "engine"):
            runs[path].append(await run_path(stack, engine, patrons, turns, path))
    per_round = [
        statistics.median(g.latencies) / statistics.median(e.latencies)
        for e, g in zip(runs["engine"], runs["gateway"], strict=True)
    ]
    return summary(runs["engine"]), summary(runs["gateway"]), per_round


def rounds_for(patrons: int, turns: int, rounds: int) -> int:
    """At least ``rounds``, and enough for MIN_TURNS turns a path: one patron's 24 turns
    are too few for a p50 that a few milliseconds of noise do not move."""
    return max(rounds, -(-MIN_TURNS // (patrons * turns)))


async def main(turns: int, rounds: int, levels: list[int], max_turns: int | None) -> str:
    machine = describe()
    gateway_env = {} if max_turns is None else {"REFDESK_ENGINE_MAX_TURNS": str(max_turns)}
    with tempfile.TemporaryDirectory() as home:
        stack = await asyncio.to_thread(start_stack, Path(home), gateway_env)
        engine = EngineClient(
            f"http://127.0.0.1:{stack.ports['engine']}", "", Settings().engine_timeout_seconds
        )
        try:
            # Warm both paths (model caches, DB connections) before measuring.
            await level(stack, engine, 2, 4, 1)
            rows = [
                (n, *await level(stack, engine, n, turns, rounds_for(n, turns, rounds)))
                for n in levels
            ]
        finally:
            await engine.close()
            stack.stop()
            reasons = unavailable_reasons(stack.log.read_text(errors="replace"))
    lines = [
        "| patrons | path | turns | p50 ms | p95 ms | turns/s | errors |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for n, engine, gateway, _ in rows:
        for name, r in (("engine alone", engine), ("gateway WebSocket", gateway)):
            lines.append(
                f"| {n} | {name} | {r['turns']:.0f} | {r['p50']:.0f} | {r['p95']:.0f} | "
                f"{r['tps']:.1f} | {r['errors']:.0f} |"
            )
    lines += [
        "",
        "| patrons | gateway p50 / engine p50 | overhead at p50 | same ratio, round by round |",
        "|---:|---:|---:|---|",
    ]
    for n, engine, gateway, per_round in rows:
        ratio = gateway["p50"] / engine["p50"]
        rounds_text = ", ".join(f"{x:.2f}" for x in per_round[:10])
        if len(per_round) > 10:
            rounds_text += (
                f", … ({len(per_round)} rounds, median {statistics.median(per_round):.2f})"
            )
        lines.append(f"| {n} | {ratio:.2f} | {100 * (ratio - 1):+.0f}% | {rounds_text} |")
    lines += [
        "",
        "Where the gateway path's time goes (means are over all turns of the level):",
        "",
        "| patrons | gateway p50 to the answer ms | overhead at p50 to the answer | "
        "engine alone mean ms | the engine's mean on the gateway path ms | "
        "gateway path mean to the end of the turn ms |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for n, engine, gateway, _ in rows:
        answer = gateway["answer_p50"]
        lines.append(
            f"| {n} | {answer:.0f} | {100 * (answer / engine['p50'] - 1):+.0f}% | "
            f"{engine['mean']:.0f} | {gateway['engine_mean']:.0f} | {gateway['mean']:.0f} |"
        )
    kinds = [
        f"- {n} patrons, {name}: {r['error_kinds']}"
        for n, engine, gateway, _ in rows
        for name, r in (("engine", engine), ("gateway", gateway))
        if r["error_kinds"]
    ]
    if kinds:
        lines += ["", "Errors by kind:", *kinds]
    if reasons:
        lines += ["", "Why the gateway said the assistant was unavailable (its log):"]
        lines += [f"- {count} × {reason}" for reason, count in reasons.most_common()]
    table = "\n".join(lines)
    slots = Settings().engine_max_turns if max_turns is None else max_turns
    return (
        f"Machine: {machine}\n\nEach patron sends {turns} turns from a fixed bilingual script; "
        f"patrons pause {PAUSE['seconds'] * 1000:.0f} ms after each answer; "
        f"each level runs at least {rounds} rounds of both paths and at least {MIN_TURNS} turns "
        f"a path (the turns column). The gateway keeps at most {slots or 'any number of'} "
        f"turns with the engine at once (REFDESK_ENGINE_MAX_TURNS); the engine-alone path "
        f"sends every patron's turn at once.\n\n{table}\n"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument(
        "--engine-max-turns", type=int, help="the gateway's REFDESK_ENGINE_MAX_TURNS (0: no limit)"
    )
    parser.add_argument(
        "--pause-ms", type=float, default=0, help="each patron's pause after an answer"
    )
    args = parser.parse_args()
    PAUSE["seconds"] = args.pause_ms / 1000
    report = asyncio.run(main(args.turns, args.rounds, args.levels, args.engine_max_turns))
    print(report)
    out = Path(__file__).with_name("RESULTS.md")
    out.write_text("# bench/turns: latest result\n\n" + report)
