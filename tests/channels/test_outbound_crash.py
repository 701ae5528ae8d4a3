"""Kill -9 the outbound worker process between a send and its commit.

The fake Bot API accepts a sendMessage (the patron has it) and then holds the
answer; while it is held the worker process is killed with SIGKILL, so the row is
left SENDING. A new worker is started: the message must not be sent again (it
becomes UNCERTAIN for staff), and every other message is delivered exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from kb.conversations import conversation_for
from kb.db import session_scope
from kb.outbound import OutboundMessage, OutboundStatus, enqueue
from tests.fixtures.fake_telegram import FakeTelegram

REPO = Path(__file__).resolve().parents[2]
CHATS = [4001, 4002, 4003, 4004]
PER_CHAT = 5


def _worker(db_url: str, home: Path, fake: FakeTelegram, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REFDESK_")},
        **fake.env(),
        "REFDESK_HOME": str(home),
        "REFDESK_DATABASE_URL": db_url,
        "REFDESK_OUTBOUND_LEASE_SECONDS": "3",
        "REFDESK_OUTBOUND_POLL_SECONDS": "0.1",
        "REFDESK_TELEGRAM_CHAT_INTERVAL_SECONDS": "0.1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot.outbound"],
        cwd=REPO,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _statuses(db_url: str) -> Counter[OutboundStatus]:
    with session_scope(db_url) as s:
        return Counter(s.scalars(select(OutboundMessage.status)).all())


def test_kill_between_send_and_commit_loses_nothing_and_sends_nothing_twice(
    db_url: str, tmp_path: Path, _isolated_home: Path
) -> None:
    fake = FakeTelegram().start()
    with session_scope(db_url) as s:
        for chat in CHATS:
            patron = conversation_for(s, "telegram", str(chat)).patron_id
            for i in range(PER_CHAT):
                enqueue(s, patron, f"chat {chat} message {i}", kind="ticket")
    total = len(CHATS) * PER_CHAT

    # Hold the answer to the 7th accepted sendMessage for a long time.
    held: list[float] = []
    held_text: list[str] = []

    def hold(call):  # type: ignore[no-untyped-def]
        accepted = call.method == "sendMessage" and call.params.get("_accepted")
        if accepted and len(fake.sent()) == 7 and not held:
            held.append(time.monotonic())
            held_text.append(call.params["text"])
            return 60.0
        return 0.0

    fake.hold(hold)
    log = tmp_path / "worker.log"
    first = _worker(db_url, _isolated_home, fake, log)
    try:
        fake.wait_for(lambda: held, timeout=60)
        time.sleep(0.3)  # other chats' sends in flight finish and are recorded
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert _statuses(db_url)[OutboundStatus.SENDING] >= 1
    delivered_before = len(fake.sent())

    fake.hold(None)
    second = _worker(db_url, _isolated_home, fake, log)
    try:
        fake.wait_for(
            lambda: (
                _statuses(db_url)[OutboundStatus.SENT] + _statuses(db_url)[OutboundStatus.UNCERTAIN]
                == total
            ),
            timeout=60,
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)
        fake.stop()

    texts = [c.params["text"] for c in fake.sent()]
    counts = Counter(texts)
    assert max(counts.values()) == 1, f"sent twice: {[t for t, n in counts.items() if n > 1]}"
    assert len(texts) > delivered_before

    with session_scope(db_url) as s:
        rows = s.scalars(select(OutboundMessage)).all()
        uncertain = [r for r in rows if r.status == OutboundStatus.UNCERTAIN]
        sent = [r for r in rows if r.status == OutboundStatus.SENT]
        # The killed send (and any other claimed at that moment) is for staff, never resent.
        assert len(uncertain) >= 1 and len(sent) + len(uncertain) == total
        assert all("not resent" in (r.last_error or "") for r in uncertain)
        uncertain_texts = {json.loads(r.body)["text"] for r in uncertain}
        sent_texts = {json.loads(r.body)["text"] for r in sent}
    # Nothing lost: every SENT row reached the patron; the held one did too, once.
    assert sent_texts <= set(texts)
    assert held_text[0] in texts and held_text[0] in uncertain_texts
    # Per chat, delivery follows queueing order.
    for chat in CHATS:
        got = [c.params["text"] for c in fake.sent(chat)]
        assert got == sorted(got, key=lambda t: int(t.rsplit(" ", 1)[1]))
