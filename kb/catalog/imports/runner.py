"""Feeding what a reader produces into the store in committed batches: a bad record is
reported and skipped, never the end of the batch."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session

from kb.catalog.bibdata import BibRecord
from kb.catalog.imports.collector import fewer_collections
from kb.catalog.imports.report import ImportSummary, Problem, ReadResult, Severity
from kb.catalog.store import delete_records, known_library_codes, store_batch

BATCH_SIZE = 1000
Progress = Callable[[int | None, int], None]  # (offset in input, records read)


class InputError(Exception):
    """The input cannot be read any further (not a record-level problem)."""


def run_import(
    session: Session,
    results: Iterable[ReadResult],
    *,
    source: str,
    default_library: str | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportSummary:
    with fewer_collections():
        return _run_import(session, results, source, default_library, progress, batch_size)


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
    # Keyed by source_id: within a batch the last word on a record wins.
    batch: dict[str, BibRecord] = {}
    deletions: dict[str, None] = {}
    positions: dict[str, str] = {}

    def flush() -> None:
        if batch:
            stored = store_batch(
                session,
                list(batch.values()),
                library_codes=libraries,
                default_library=default_library,
            )
            summary.added += stored.added
            summary.updated += stored.updated
            summary.unchanged += stored.unchanged
            summary.problems.extend(
                Problem(positions.get(sid, "?"), message, Severity.WARNING, sid)
                for sid, message in stored.warnings
            )
        if deletions:
            summary.deleted += delete_records(session, source, list(deletions))
        session.commit()
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
    flush()
    # Topical alerts: the alerts worker turns what was added into items and matches
    # them (kb.alerts.items.collect_and_match), reading from the durable cursors past
    # the ids this import committed; tagging is not the import's work.
    return summary
