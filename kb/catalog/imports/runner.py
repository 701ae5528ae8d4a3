"""Feeding what a reader produces into the store in committed batches: a bad record is
reported and skipped, never the end of the batch."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass
from functools import partial

from sqlalchemy.orm import Session

from kb.catalog.bibdata import BibRecord
from kb.catalog.imports.collector import fewer_collections
from kb.catalog.imports.report import ImportSummary, Problem, ReadResult, Severity
from kb.catalog.imports.writer import BatchWriter
from kb.catalog.store import (
    BatchResult,
    PreparedBatch,
    delete_records,
    known_library_codes,
    prepare_batch,
    write_batch,
)
from kb.db import is_sqlite

BATCH_SIZE = 1000
Progress = Callable[[int | None, int], None]  # (offset in input, records read)


class InputError(Exception):
    """The input cannot be read any further (not a record-level problem)."""


class StoreFailed(Exception):
    """The database refused a batch. ``summary`` counts what the batches before it
    stored (committed); the caller's session needs a rollback."""

    def __init__(self, message: str, summary: ImportSummary) -> None:
        super().__init__(message)
        self.summary = summary


def run_import(
    session: Session,
    results: Iterable[ReadResult],
    *,
    source: str,
    default_library: str | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportSummary:
    """Read ``results`` and store them in committed batches, each written (on a thread
    of its own) while the next is read and prepared. Raises StoreFailed when the
    database refuses a batch, and whatever the reader raises, once the batches read
    before it are committed."""
    with fewer_collections():
        return _run_import(session, results, source, default_library, progress, batch_size)


@dataclass
class _Stored:
    result: BatchResult
    deleted: int


@dataclass
class _Batch:
    problems_at: int  # where its warnings go among the summary's problems (input order)
    positions: dict[str, str]
    written: Future[_Stored]


def _write(session: Session, prepared: PreparedBatch, deletions: list[str], source: str) -> _Stored:
    stored = write_batch(session, prepared)
    deleted = delete_records(session, source, deletions) if deletions else 0
    session.commit()
    return _Stored(stored, deleted)


def _run_import(
    session: Session,
    results: Iterable[ReadResult],
    source: str,
    default_library: str | None,
    progress: Progress | None,
    batch_size: int,
) -> ImportSummary:
    summary = ImportSummary(source=source)
    libraries = known_library_codes(session)
    sqlite = is_sqlite(session)
    # Keyed by source_id: within a batch the last word on a record wins.
    batch: dict[str, BibRecord] = {}
    deletions: dict[str, None] = {}
    positions: dict[str, str] = {}
    writer: BatchWriter[_Stored] = BatchWriter(session)
    counter = _Counter(summary)

    def flush() -> None:
        prepared = prepare_batch(
            list(batch.values()),
            library_codes=libraries,
            default_library=default_library,
            sqlite=sqlite,
        )
        write = partial(_write, prepared=prepared, deletions=list(deletions), source=source)
        counter.add(_Batch(len(summary.problems), dict(positions), writer.submit(write)))
        batch.clear()
        deletions.clear()
        positions.clear()

    try:
        try:
            for result in results:
                summary.problems.extend(result.problems)
                if result.deleted_id is not None:
                    batch.pop(result.deleted_id, None)
                    deletions[result.deleted_id] = None
                elif result.record is not None:
                    summary.read += 1
                    record = result.record
                    record.source = source
                    deletions.pop(record.source_id, None)
                    batch[record.source_id] = record
                    positions[record.source_id] = result.position
                else:
                    summary.read += 1
                    summary.skipped += 1
                if progress:
                    progress(result.offset, summary.read)
                if len(batch) + len(deletions) >= batch_size:
                    flush()
        except InputError as error:
            summary.aborted = str(error)
        flush()  # also when empty: it commits what the caller's session holds
        writer.finish()
    except BaseException as error:
        # Batches queued before the failure are written (committed) first.
        with suppress(BaseException):
            writer.finish()
        if failed := counter.count_written():
            raise StoreFailed(_describe_failure(failed), summary) from failed.written.exception()
        raise error
    counter.count_written()
    # Topical alerts: the alerts worker turns what was added into items and matches
    # them (kb.alerts.items.collect_and_match), reading from the durable cursors past
    # the ids this import committed; tagging is not the import's work.
    return summary


class _Counter:
    """Adds what written batches stored to the summary as they finish, in order, and
    lets go of them (a million-record import holds only the batches in flight)."""

    def __init__(self, summary: ImportSummary) -> None:
        self.summary = summary
        self.batches: deque[_Batch] = deque()
        self.inserted = 0  # warnings placed among the problems so far

    def add(self, batch: _Batch) -> None:
        self.batches.append(batch)
        self.count_written()

    def count_written(self) -> _Batch | None:
        """Count the finished batches at the front; returns the one that failed, if any."""
        while self.batches and self.batches[0].written.done():
            batch = self.batches[0]
            if batch.written.exception() is not None:
                return batch
            self.batches.popleft()
            stored = batch.written.result()
            summary = self.summary
            summary.added += stored.result.added
            summary.updated += stored.result.updated
            summary.unchanged += stored.result.unchanged
            summary.deleted += stored.deleted
            at = batch.problems_at + self.inserted
            warnings = [
                Problem(batch.positions.get(sid, "?"), message, Severity.WARNING, sid)
                for sid, message in stored.result.warnings
            ]
            summary.problems[at:at] = warnings
            self.inserted += len(warnings)
        return None


def _describe_failure(batch: _Batch) -> str:
    error = batch.written.exception()
    reason = " ".join(str(error).split())[:500]
    positions = list(batch.positions.values())
    what = f"the records from {positions[0]} to {positions[-1]}" if positions else "a batch"
    return (
        f"the database refused {what} ({type(error).__name__}: {reason}); "
        "the records before them are stored, these and the rest are not"
    )
