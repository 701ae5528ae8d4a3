"""Exactly once with a killed and restarted alerts worker process: SIGKILL in the middle
of queueing thousands of alerts, start a new worker (it waits for the dead one's lease
to lapse), and every subscriber ends up with exactly one message holding both items."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, insert, select

from kb.alerts.models import (
    AlertDelivery,
    AlertLease,
    DeliveryStatus,
    Frequency,
    Subscriber,
    SubscriptionTopic,
    TopicKind,
)
from kb.catalog.models import Library
from kb.db import session_scope, utcnow
from kb.outbound.models import OutboundMessage
from kb.patrons.models import Patron
from tests.kb.alerts.conftest import bib, import_records

REPO = Path(__file__).resolve().parents[2]
SUBSCRIBERS = 3000


def seed(url: str) -> None:
    with session_scope(url) as session:
        session.add(
            Library(code="PKU", name_zh="北京大学图书馆", name_en="Peking University Library")
        )
        now = utcnow()
        session.execute(insert(Patron), [{"language": "zh", "created_at": now}] * SUBSCRIBERS)
        patrons = session.scalars(select(Patron.id).order_by(Patron.id)).all()
        session.execute(
            insert(Subscriber),
            [
                {
                    "patron_id": p,
                    "active": True,
                    "frequency": Frequency.INSTANT,
                    "language": "zh",
                    "timezone": "Asia/Shanghai",
                    "created_at": now,
                    "updated_at": now,
                }
                for p in patrons
            ],
        )
        subscribers = session.scalars(select(Subscriber.id)).all()
        session.execute(
            insert(SubscriptionTopic),
            [
                {"subscriber_id": s, "kind": TopicKind.CLASS, "value": "TP18", "created_at": now}
                for s in subscribers
            ],
        )
    with session_scope(url) as session:
        import_records(
            session, [bib("r1", "人工智能导论", clc="TP18"), bib("r2", "智能简史", clc="TP18")]
        )


def start_worker(home: Path, url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REFDESK_")},
        "REFDESK_HOME": str(home),
        "REFDESK_DATABASE_URL": url,
        "REFDESK_ALERTS_BATCH_SIZE": "1",
        "REFDESK_ALERTS_POLL_SECONDS": "1",
        "REFDESK_ALERTS_LEASE_SECONDS": "2",
        "PYTHONUNBUFFERED": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot.alerts"],
        cwd=REPO,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def count_messages(url: str) -> int:
    with session_scope(url) as session:
        return int(session.scalar(select(func.count()).select_from(OutboundMessage)) or 0)


def test_a_worker_killed_mid_run_and_restarted_sends_everything_exactly_once(
    tmp_path: Path, sqlite_template: Path, _isolated_home: Path
) -> None:
    db = tmp_path / "refdesk.db"
    shutil.copy(sqlite_template, db)
    url = f"sqlite:///{db}"
    seed(url)
    with session_scope(url) as session:
        assert session.scalar(select(func.count()).select_from(AlertDelivery)) == 2 * SUBSCRIBERS
    log = tmp_path / "worker.log"

    first = start_worker(_isolated_home, url, log)
    # Generous limits: a busy two-core CI machine is slow, and this test is about
    # exactly-once, not speed.
    deadline = time.monotonic() + 300
    at_kill = 0
    while time.monotonic() < deadline:
        at_kill = count_messages(url)
        if at_kill >= 50:
            break
        assert first.poll() is None, log.read_text()
        time.sleep(0.02)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    at_kill = count_messages(url)
    assert 0 < at_kill < SUBSCRIBERS, f"not killed mid-run ({at_kill} queued):\n{log.read_text()}"

    second = start_worker(_isolated_home, url, log)
    try:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            with session_scope(url) as session:
                pending = session.scalar(
                    select(func.count())
                    .select_from(AlertDelivery)
                    .where(AlertDelivery.status == DeliveryStatus.PENDING)
                )
            if pending == 0:
                break
            assert second.poll() is None, log.read_text()
            time.sleep(0.5)
        else:
            raise AssertionError(f"the restarted worker did not finish:\n{log.read_text()[-3000:]}")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)

    with session_scope(url) as session:
        messages = session.scalars(select(OutboundMessage)).all()
        per_patron = Counter(m.patron_id for m in messages)
        assert len(messages) == SUBSCRIBERS and set(per_patron.values()) == {1}
        for m in messages[:: SUBSCRIBERS // 20]:
            text = json.loads(m.body)["text"]
            assert "人工智能导论" in text and "智能简史" in text
        rows = session.execute(
            select(AlertDelivery.status, AlertDelivery.outbound_id, Subscriber.patron_id).join(
                Subscriber, Subscriber.id == AlertDelivery.subscriber_id
            )
        ).all()
        by_id = {m.id: m.patron_id for m in messages}
        assert {status for status, _, _ in rows} == {DeliveryStatus.QUEUED}
        assert all(by_id[outbound] == patron for _, outbound, patron in rows)
        assert session.scalar(select(AlertLease)) is None  # released on SIGTERM
    assert "lost the lease" not in log.read_text()
