"""Pieces shared by the benchmarks that push messages through the real outbound worker
(``python -m bot.outbound``, its own process, real python-telegram-bot and
AIORateLimiter) to the fake Bot API: starting and stopping the worker, waiting until
the queue is drained, and the rate figures read from the fake's timestamps."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

REPO = Path(__file__).resolve().parents[2]


def max_in_window(times: list[float], window: float) -> int:
    """The most timestamps (sorted) inside any window of ``window`` seconds."""
    best, start = 0, 0
    for end in range(len(times)):
        while times[end] - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def achieved_rate(calls: Iterable[Any]) -> tuple[float, float]:
    """(messages per second, seconds) from the first to the last call."""
    times = sorted(c.at for c in calls)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    return ((len(times) - 1) / span if span else 0.0), span


def per_chat_times(calls: Iterable[Any]) -> dict[int, list[float]]:
    chats: dict[int, list[float]] = defaultdict(list)
    for c in calls:
        chats[c.params["chat_id"]].append(c.at)
    return {chat: sorted(ts) for chat, ts in chats.items()}


def min_private_gap(calls: Iterable[Any]) -> float:
    """The smallest time between two pushes to one private chat (inf if none had two)."""
    gaps = [
        b - a
        for chat, ts in per_chat_times(calls).items()
        if chat > 0
        for a, b in zip(ts, ts[1:], strict=False)
    ]
    return min(gaps) if gaps else float("inf")


@dataclass
class OutboundWorker:
    """The outbound worker as its own process, talking to ``fake`` and ``db_url``."""

    fake: Any  # tests.fixtures.fake_telegram.FakeTelegram
    home: Path
    db_url: str
    overall_rate: float = 30.0
    chat_interval: float = 1.0
    group_per_minute: float = 20.0
    poll_seconds: float = 0.2
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.home / "worker.log"

    def start(self) -> OutboundWorker:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("REFDESK_")},
            **self.fake.env(),
            "REFDESK_HOME": str(self.home),
            "REFDESK_DATABASE_URL": self.db_url,
            "REFDESK_TELEGRAM_OVERALL_PER_SECOND": str(self.overall_rate),
            "REFDESK_TELEGRAM_CHAT_INTERVAL_SECONDS": str(self.chat_interval),
            "REFDESK_TELEGRAM_GROUP_PER_MINUTE": str(self.group_per_minute),
            "REFDESK_OUTBOUND_POLL_SECONDS": str(self.poll_seconds),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.outbound"],
            cwd=REPO,
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(30)

    def open_messages(self) -> int:
        """Messages still queued or being sent."""
        from kb.db import session_scope
        from kb.outbound import OutboundMessage, OutboundStatus

        with session_scope(self.db_url) as s:
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(OutboundMessage)
                    .where(
                        OutboundMessage.status.in_([OutboundStatus.QUEUED, OutboundStatus.SENDING])
                    )
                )
                or 0
            )

    def drained(self, label: str, timeout: float, every: float = 10.0) -> bool:
        """Wait until nothing is queued or being sent; False on timeout."""
        assert self.process is not None
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise SystemExit(f"worker exited:\n{self.log.read_text()[-3000:]}")
            open_ = self.open_messages()
            print(
                f"  {label} {time.monotonic() - started:6.0f}s  sent {len(self.fake.sent()):6d}"
                f"  open {open_:6d}",
                flush=True,
            )
            if open_ == 0:
                return True
            time.sleep(every)
        return False


def measure_table(rows: list[tuple[str, str]]) -> str:
    """A two-column markdown table (measure | value), padded for reading as text."""
    width = max(len(k) for k, _ in rows)
    header = f"| {'measure':<{width}} | value |\n|{'-' * (width + 2)}|-------|"
    return header + "\n" + "\n".join(f"| {k:<{width}} | {v} |" for k, v in rows)
