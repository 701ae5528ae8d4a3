"""Feeding what a reader produces into the store in committed batches: a bad record is
reported and skipped, never the end of the batch."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable

import psycopg
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kb.catalog.bibdata import BibRecord
from kb.catalog.imports.collector import fewer_collections
from kb.catalog.imports.report import ImportSummary, Problem, ReadResult, Severity
from kb.catalog.store import (
    BatchResult,
    ConcurrentJobs,
    delete_records,
    known_library_codes,
    store_batch,
)
from kb.db import is_sqlite

BATCH_SIZE = 1000
Progress = Callable[[int | None, int], None]  # (offset in input, records read)

# What the database raises when it refuses a batch (COPY raises the driver's own).
_DATABASE_ERRORS = (SQLAlchemyError, sqlite3.Error, psycopg.Error)


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
    concurrent: ConcurrentJobs | None = None,
) -> ImportSummary:
    """Read ``results`` and store them in committed batches. Raises StoreFailed when
    the database refuses a batch (the batches before it stay committed). ``concurrent``
    is given to each job of an import run as several (see store.py)."""
    with fewer_collections():
        return _run_import(
            session, results, source, default_library, progress, batch_size, concurrent
        )


def _run_import(
    session: Session,
    results: Iterable[ReadResult],
    source: str,
    default_library: str | None,
    progress: Progress | None,
    batch_size: int,
    concurrent: ConcurrentJobs | None,
) -> ImportSummary:
    summary = ImportSummary(source=source)
    libraries = known_library_codes(session)
    # Keyed by source_id: within a batch the last word on a record wins.
    batch: dict[str, BibRecord] = {}
    deletions: dict[str, None] = {}
    positions: dict[str, str] = {}

    def store() -> tuple[BatchResult, int]:
        _commit_without_waiting_for_disk(session)
        stored = (
            store_batch(
                session,
                list(batch.values()),
                library_codes=libraries,
                default_library=default_library,
                concurrent=concurrent,
            )
            if batch
            else BatchResult()
        )
        deleted = delete_records(session, source, list(deletions)) if deletions else 0
        session.commit()
        return stored, deleted

    def flush() -> None:
        try:
            try:
                stored, deleted = store()
            except _DATABASE_ERRORS as error:
                if not _duplicate_key(error):
                    raise
                # Another writer (another job of this import) committed one of these
                # records after this batch looked: once more, they are now updates.
                session.rollback()
                stored, deleted = store()
        except _DATABASE_ERRORS as error:
            raise StoreFailed(_describe_failure(error, positions), summary) from error
        summary.added += stored.added
        summary.updated += stored.updated
        summary.unchanged += stored.unchanged
        summary.deleted += deleted
        summary.problems.extend(
            Problem(positions.get(sid, "?"), message, Severity.WARNING, sid)
            for sid, message in stored.warnings
        )
        batch.clear()
        deletions.clear()
        positions.clear()

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
    # Topical alerts: the alerts worker turns what was added into items and matches
    # them (kb.alerts.items.collect_and_match), reading from the durable cursors past
    # the ids this import committed; tagging is not the import's work.
    return summary


def _duplicate_key(error: Exception) -> bool:
    cause = getattr(error, "orig", None) or error
    if isinstance(cause, sqlite3.IntegrityError):
        return "UNIQUE" in str(cause)
    return isinstance(cause, psycopg.errors.UniqueViolation)


def _commit_without_waiting_for_disk(session: Session) -> None:
    """On PostgreSQL, this batch's COMMIT does not wait for its WAL to reach the disk.

    Safe for an import: a crash of the database server or the machine can lose only the
    batches committed in the last moments (three wal_writer_delay, 0.6 s by default),
    whole, never half of one; the import is idempotent, so running it again stores them.
    And any later synchronous commit (every other write refdesk makes) flushes the WAL up
    to and including these batches first, so nothing else can depend on a lost one.
    """
    if not is_sqlite(session):
        session.connection().exec_driver_sql("SET LOCAL synchronous_commit = off")


def _describe_failure(error: Exception, positions: dict[str, str]) -> str:
    reason = " ".join(str(getattr(error, "orig", None) or error).split())[:500]
    kind = type(getattr(error, "orig", None) or error).__name__
    places = list(positions.values())
    what = f"the records from {places[0]} to {places[-1]}" if places else "a batch"
    return (
        f"the database refused {what} ({kind}: {reason}); "
        "the records before them are stored, these and the rest are not"
    )
