"""One catalog import, measured: wall time and CPU time per record, then the alerts
worker's matching run over what it added.

    python bench/catalog/import_cpu.py DATABASE_URL FILE [--worker] [--jobs N]

Run as its own process (``run.py`` starts it) so that its CPU time is the import's
alone: this process's (storing), its children's (the read-ahead parser) and, on
PostgreSQL, the server backend's (read from /proc, the server runs on this machine).
With --worker, the alerts worker's run (collecting and tagging the new records, matching them) is timed
on its own, with jieba's dictionary and the vocabulary already loaded as in the
long-running worker. Imports ``kb`` from PYTHONPATH, so the same script times another
checkout's importer (the baseline, whose imports tagged and matched inside the import:
its worker run finds nothing left) as well. Prints one JSON line.

With --jobs N (N > 1) the file is imported by N processes (kb.catalog.imports.jobs):
their CPU is this process's children's once they end, and their backends' CPU is read
every 50 ms while they run (each backend's last reading counts; they stay connected
until the jobs end, idle after their last commit).
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from kb.alerts.items import collect_catalog
from kb.alerts.matching import match_pending
from kb.alerts.text import terms
from kb.alerts.vocabulary import vocabulary
from kb.catalog.imports import ImportSummary, import_file
from kb.catalog.libraries import SAMPLE_LIBRARIES, ensure_libraries
from kb.db import engine_for, session_scope, sessionmaker_for
from kb.migrate import upgrade


def backend_cpu(session: Session) -> float:
    """CPU seconds of this session's PostgreSQL backend so far; 0 on SQLite."""
    if session.get_bind().dialect.name != "postgresql":
        return 0.0
    pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class BackendSampler:
    """CPU seconds of the other backends connected to this database, sampled while
    the jobs run."""

    def __init__(self, url: str) -> None:
        self.engine = engine_for(url)
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self.engine.connect() as conn:
            own = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            while not self.stop.is_set():
                pids = conn.exec_driver_sql(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND backend_type = 'client backend' AND pid <> %s",
                    (own,),
                ).scalars()
                for pid in pids:
                    with contextlib.suppress(OSError):  # it ended meanwhile
                        self.seen[pid] = process_cpu(pid)
                conn.rollback()
                self.stop.wait(0.05)

    def __enter__(self) -> BackendSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_run(session: Session) -> float:
    """CPU seconds (here and in the PostgreSQL backend) of the alerts worker's matching
    run over what the import added: collecting and tagging items, then matching them."""
    terms("预热 warm-up")  # jieba's dictionary: loaded once per worker process
    vocabulary()
    backend_before, cpu_before = backend_cpu(session), cpu_seconds()
    collect_catalog(session)
    match_pending(session)
    return cpu_seconds() - cpu_before + backend_cpu(session) - backend_before


def import_jobs(url: str, path: Path, jobs: int) -> tuple[ImportSummary, float, float, float]:
    """(summary, wall, CPU, backend CPU) of an import by ``jobs`` processes."""
    from kb.catalog.imports.jobs import import_files

    cpu_before = cpu_seconds()
    sampler = BackendSampler(url) if url.startswith("postgresql") else None
    started = time.perf_counter()
    if sampler:
        with sampler:
            [summary] = import_files(url, [path], jobs=jobs, source="synthetic")
    else:
        [summary] = import_files(url, [path], jobs=jobs, source="synthetic")
    wall = time.perf_counter() - started
    return summary, wall, cpu_seconds() - cpu_before, sampler.seconds if sampler else 0.0


def main(url: str, path: Path, worker: bool, jobs: int) -> None:
    upgrade(url)
    with session_scope(url) as session:
        ensure_libraries(session, SAMPLE_LIBRARIES)
    session = sessionmaker_for(url)()
    if jobs > 1:
        summary, wall, cpu, backend = import_jobs(url, path, jobs)
    else:
        backend_before, cpu_before = backend_cpu(session), cpu_seconds()
        started = time.perf_counter()
        summary = import_file(session, path, source="synthetic")
        wall = time.perf_counter() - started
        cpu = cpu_seconds() - cpu_before
        backend = backend_cpu(session) - backend_before
    if summary.skipped or summary.aborted:
        raise SystemExit(f"import failed: {summary.aborted or summary.problems[:3]}")
    alerts = worker_run(session) if worker else None
    session.close()
    if url.startswith("postgresql"):
        # What an operator runs after a bulk load; autovacuum would get there later.
        with engine_for(url).execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text("VACUUM ANALYZE"))
    print(
        json.dumps(
            {
                "records": summary.read,
                "rate": summary.read / wall,
                "cpu_us": cpu / summary.read * 1e6,
                "backend_us": backend / summary.read * 1e6,
                "alerts_us": alerts / summary.read * 1e6 if alerts is not None else None,
                "load": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    options = sys.argv[3:]
    jobs = int(options[options.index("--jobs") + 1]) if "--jobs" in options else 1
    main(sys.argv[1], Path(sys.argv[2]), "--worker" in options, jobs)
