"""Importing with several processes at once: ``refdesk catalog import --jobs N``.

On PostgreSQL an import's CPU is split between the importing process and its server
backend, which take turns batch by batch, so one import keeps about one core busy. A
large file is split into parts at record starts (parts.py) and each part is imported
by a process of its own with its own database session; positions stay those of the
whole file and the parts' summaries are merged. Files go one after another, so a
later file's version of a record still wins, as with one job.

What makes parts safe to run at once: imports are idempotent and keyed by (source, id);
a record two parts both insert is retried as an update (runner.py), and one that a part
replaces after another part stored it is reported (store.py). The advisory lock of
ingestlock.py keeps the alerts worker's cursors behind ids any job has not committed.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from kb.catalog.imports import FileFormat, ImportSummary, detect_format, import_file, parts
from kb.catalog.imports.filepart import WHOLE_FILE, FilePart
from kb.catalog.imports.parts import split_file
from kb.catalog.imports.runner import Progress
from kb.catalog.store import ConcurrentJobs
from kb.db import sessionmaker_for, utcnow

_POLL_SECONDS = 0.2  # how often the progress bar hears from the jobs


def default_jobs(url: str) -> int:
    """The number of cores on PostgreSQL; 1 on SQLite, where one writer at a time holds
    the database and a second job only waits for it."""
    if make_url(url).get_backend_name() == "sqlite":
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class _PartJob:
    url: str
    path: Path
    file_format: FileFormat
    part: FilePart
    slot: int  # where its progress goes in the shared counters
    source: str | None
    default_library: str | None
    encoding: str
    since: datetime


def import_files(
    url: str,
    paths: Sequence[Path],
    *,
    jobs: int | None = None,
    source: str | None = None,
    file_format: FileFormat | None = None,
    default_library: str | None = None,
    encoding: str = "utf-8-sig",
    progress: Callable[[Path], Progress | None] | None = None,
    min_part_bytes: int | None = None,
) -> list[ImportSummary]:
    """Import ``paths`` in order into the database at ``url`` (already migrated), with
    up to ``jobs`` processes (default: default_jobs). One summary per file;
    ``progress(path)`` gives the file's progress callback; files under
    ``min_part_bytes`` a job (default: parts.MIN_PART_BYTES) are not split."""
    jobs = jobs or default_jobs(url)
    formats = [file_format or detect_format(path) for path in paths]
    plans = [
        split_file(
            path,
            fmt,
            jobs,
            encoding=encoding,
            min_part_bytes=min_part_bytes or parts.MIN_PART_BYTES,
        )
        if jobs > 1
        else [WHOLE_FILE]
        for path, fmt in zip(paths, formats, strict=True)
    ]
    options = {"source": source, "default_library": default_library, "encoding": encoding}
    if all(len(plan) == 1 for plan in plans):
        return [
            _import_whole(url, path, fmt, progress(path) if progress else None, **options)
            for path, fmt in zip(paths, formats, strict=True)
        ]
    # spawn, not fork: this process may hold database connections and threads' locks.
    context = multiprocessing.get_context("spawn")
    _start_job(context.RawArray("q", 2 * jobs))  # per slot: bytes done, records read
    summaries = []
    # This process imports each file's first part itself: one process fewer to start
    # (each spends a second or two of CPU importing its modules).
    with ProcessPoolExecutor(
        max_workers=jobs - 1, mp_context=context, initializer=_start_job, initargs=(_counters,)
    ) as pool:
        for path, fmt, plan in zip(paths, formats, plans, strict=True):
            since = utcnow()
            part_jobs = [
                _PartJob(
                    url,
                    path,
                    fmt,
                    part,
                    slot,
                    source=source,
                    default_library=default_library,
                    encoding=encoding,
                    since=since,
                )
                for slot, part in enumerate(plan)
            ]
            _counters[:] = [0] * len(_counters)
            futures = [pool.submit(_import_part, job) for job in part_jobs[1:]]
            show = _Shown(progress(path) if progress else None)
            first = _import_part(part_jobs[0], show.maybe)
            while wait(futures, timeout=_POLL_SECONDS).not_done:
                show.now()
            results = [lambda first=first: first, *(future.result for future in futures)]
            summaries.append(_merged(path, source or str(fmt), results))
    return summaries


class _Shown:
    """The file's progress callback, told the sum of all jobs' counters now and then."""

    def __init__(self, report: Progress | None) -> None:
        self.report = report
        self.due = 0.0

    def maybe(self) -> None:
        if self.report and (now := time.monotonic()) >= self.due:
            self.due = now + _POLL_SECONDS
            self.now()

    def now(self) -> None:
        if self.report:
            self.report(sum(_counters[0::2]), sum(_counters[1::2]))


def _import_whole(
    url: str, path: Path, file_format: FileFormat, progress: Progress | None, **options: Any
) -> ImportSummary:
    session = sessionmaker_for(url)()
    try:
        return import_file(session, path, file_format=file_format, progress=progress, **options)
    finally:
        session.close()


def _merged(
    path: Path, source: str, results: Sequence[Callable[[], ImportSummary]]
) -> ImportSummary:
    """The parts' summaries in file order, as one file's summary."""
    merged = ImportSummary(source=source)
    for number, result in enumerate(results, start=1):
        try:
            summary = result()
        except Exception as error:  # the job's process died or could not start
            summary = ImportSummary(source=source)
            summary.aborted = f"{path}: {type(error).__name__}: {error}"
        if summary.aborted and len(results) > 1:
            summary.aborted += (
                f" (in part {number} of {len(results)} of the file, imported at once: "
                "the other parts went on; importing the file again stores the rest)"
            )
        merged.merge(summary)
        merged.source = summary.source
    return merged


# In each job's process (and this one): the progress counters all jobs share.
_counters: Any = None


def _start_job(counters: Any) -> None:
    global _counters
    _counters = counters


def _import_part(job: _PartJob, then: Callable[[], None] | None = None) -> ImportSummary:
    def progress(offset: int | None, records: int) -> None:
        if offset is not None:
            _counters[2 * job.slot] = offset - job.part.start
        _counters[2 * job.slot + 1] = records
        if then:
            then()

    session = sessionmaker_for(job.url)()
    try:
        return import_file(
            session,
            job.path,
            source=job.source,
            file_format=job.file_format,
            default_library=job.default_library,
            encoding=job.encoding,
            progress=progress,
            read_ahead=False,  # the jobs already keep the cores busy
            part=job.part,
            concurrent=ConcurrentJobs(job.since),
        )
    finally:
        session.close()
