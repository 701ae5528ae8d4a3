"""The alerts worker: a process of its own, started and restarted by ``refdesk up``'s
supervisor next to the gateway.

Why not inside the gateway: matching a big import against 100,000 subscriptions is
CPU work that would stall the gateway's event loop (chat replies, WebSockets); with
several gateways behind a load balancer every one of them would run it; and a crash
should not take the chat down (e-mail goes out through the outbound worker). A separate supervised process
keeps those apart, and the leader lease means running one per host is still safe:
one worker leads, the others wait and take over when its lease lapses.

The leader runs an APScheduler ``BackgroundScheduler`` whose jobs live in a
persistent SQLAlchemy job store (table ``alert_scheduler_jobs`` in the app
database), so schedules and their next run times survive restarts; a worker that
loses the lease shuts its scheduler down.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from datetime import UTC, datetime

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from kb.alerts import jobs, lease
from kb.db import session_scope
from kb.settings import Settings, get_settings

log = logging.getLogger("refdesk.alerts")
JOB_TABLE = "alert_scheduler_jobs"


def make_scheduler(settings: Settings) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=settings.database_url, tablename=JOB_TABLE)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone=UTC,
    )
    poll = max(1, settings.alerts_poll_seconds)
    schedule = [
        ("alerts-match", "kb.alerts.jobs:match", poll),
        ("alerts-instant", "kb.alerts.jobs:instant", poll),
        ("alerts-daily", "kb.alerts.jobs:daily_digests", 60),
        ("alerts-weekly", "kb.alerts.jobs:weekly_digests", 60),
        ("alerts-feeds", "kb.alerts.jobs:feeds", max(60, settings.alerts_feed_minutes * 60)),
        # Personal data past its retention limit (kb.privacy.retention), once a day.
        ("privacy-retention", "kb.alerts.jobs:privacy_retention", 24 * 3600),
    ]
    now = datetime.now(UTC)
    for job_id, func, seconds in schedule:
        # A new leader catches up at once (matching, due alerts); the stored job keeps
        # its schedule otherwise.
        first = now if job_id in ("alerts-match", "alerts-instant") else None
        scheduler.add_job(
            func,
            "interval",
            seconds=seconds,
            id=job_id,
            replace_existing=True,
            **({"next_run_time": first} if first else {}),
        )
    return scheduler


class Worker:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.scheduler: BackgroundScheduler | None = None
        self.stop = threading.Event()

    def _lead(self) -> bool:
        with session_scope(self.settings.database_url) as session:
            return lease.acquire(session, self.holder, self.settings.alerts_lease_seconds)

    def run(self) -> None:
        jobs.HOLDER = self.holder
        log.info("alerts worker %s started", self.holder)
        renew = max(0.5, self.settings.alerts_lease_seconds / 3)
        while not self.stop.is_set():
            try:
                leading = self._lead()
            except Exception:
                log.exception("alerts: lease check failed")
                leading = False
            if leading and self.scheduler is None:
                log.info("alerts worker %s leads; starting the scheduler", self.holder)
                self.scheduler = make_scheduler(self.settings)
                self.scheduler.start()
            elif not leading and self.scheduler is not None:
                log.warning("alerts worker %s lost the lease; stopping the scheduler", self.holder)
                self.scheduler.shutdown(wait=False)
                self.scheduler = None
            self.stop.wait(renew)
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
        with session_scope(self.settings.database_url) as session:
            lease.release(session, self.holder)
        log.info("alerts worker %s stopped", self.holder)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    worker = Worker(get_settings())
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.stop.set())
    worker.run()


if __name__ == "__main__":
    main()
