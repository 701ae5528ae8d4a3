"""Storing imported records in batches: insert the new, update the changed, leave the
unchanged alone, keep identifiers, holdings and the search index in step.

Everything here works on whole batches (a few round trips per batch, none per record),
which is what makes imports fast. The caller commits.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from kb.catalog.bibdata import BibRecord
from kb.catalog.bulkwrite import insert_rows, next_ids, placeholder
from kb.catalog.ingestlock import hold_for_ids
from kb.catalog.models import Holding, Library, Record, RecordIdentifier
from kb.catalog.search.analysis import is_cjk, words
from kb.catalog.search.index import IndexDocument, delete_documents, write_documents
from kb.db import is_sqlite, utcnow

_records: Table = Record.__table__  # type: ignore[assignment]
_holdings: Table = Holding.__table__  # type: ignore[assignment]
_identifiers: Table = RecordIdentifier.__table__  # type: ignore[assignment]


@dataclass
class BatchResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    # (source_id, message) for items that named a library the catalog does not know.
    warnings: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ConcurrentJobs:
    """For one job of an import run as several: when the jobs began, and the
    timestamps this job's batches wrote (to tell its own records from another job's)."""

    since: datetime
    own_stamps: set[datetime] = field(default_factory=set)


@dataclass
class PreparedRecord:
    """A record's rows in the database's terms, but for its id (known only when written)."""

    source: str
    source_id: str
    content_hash: str
    values: tuple[object, ...]  # _RECORD_COLUMNS
    identifiers: list[tuple[str, str]]
    holdings: list[tuple[object, ...]]  # _HOLDING_COLUMNS without record_id and timestamps
    holding_warnings: list[str]
    document: tuple[str, ...]  # the search index row without its key
    vocabulary: set[str]


@dataclass
class PreparedBatch:
    records: list[PreparedRecord]
    warnings: list[tuple[str, str]]  # columns cut to fit


def known_library_codes(session: Session) -> set[str]:
    return set(session.scalars(select(Library.code)))


def store_batch(
    session: Session,
    batch: Sequence[BibRecord],
    *,
    library_codes: set[str],
    default_library: str | None = None,
    concurrent: ConcurrentJobs | None = None,
) -> BatchResult:
    """Upsert a batch of records keyed by (source, source_id); later duplicates win.
    With ``concurrent``, a record another job of the same import changed is reported in the
    warnings before it is replaced."""
    prepared = prepare_batch(
        batch,
        library_codes=library_codes,
        default_library=default_library,
        sqlite=is_sqlite(session),
    )
    return write_batch(session, prepared, concurrent)


def prepare_batch(
    batch: Sequence[BibRecord],
    *,
    library_codes: set[str],
    default_library: str | None,
    sqlite: bool,
) -> PreparedBatch:
    """The CPU half of storing (digests, index analysis, rows): no database work."""
    warnings: list[tuple[str, str]] = []
    unique: dict[tuple[str, str], BibRecord] = {}
    for bib in batch:
        _fit_columns(bib, warnings)
        unique[(bib.source, bib.source_id)] = bib
    return PreparedBatch(
        [_prepare(bib, library_codes, default_library, sqlite) for bib in unique.values()],
        warnings,
    )


def _prepare(
    bib: BibRecord, library_codes: set[str], default_library: str | None, sqlite: bool
) -> PreparedRecord:
    holdings: list[tuple[object, ...]] = []
    holding_warnings = []
    for item in bib.items:
        code = item.library_code or default_library
        if code not in library_codes:
            holding_warnings.append(
                f"holding skipped: unknown member library {code!r}"
                if code
                else "holding skipped: no member library given"
            )
            continue
        due = item.due_date.isoformat() if sqlite and item.due_date else item.due_date
        holdings.append(
            (code, item.barcode, item.call_number, item.location, item.status.value, due,
             item.loanable)
        )  # fmt: skip
    document = IndexDocument.build(
        title=bib.title,
        subtitle=bib.subtitle,
        variant_titles=bib.variant_titles,
        authors=bib.authors,
        subjects=bib.subjects,
        classes=(bib.clc, bib.lcc, bib.ddc),
        publisher=bib.publisher,
        summary=bib.summary,
    )
    return PreparedRecord(
        source=bib.source,
        source_id=bib.source_id,
        content_hash=bib.content_hash(),
        values=_record_values(bib),
        identifiers=_identifiers_of(bib),
        holdings=holdings,
        holding_warnings=holding_warnings,
        document=document.row_values(sqlite=sqlite),
        vocabulary=_vocabulary_of(bib),
    )


def write_batch(
    session: Session, prepared: PreparedBatch, concurrent: ConcurrentJobs | None = None
) -> BatchResult:
    """The database half: insert the new records, update the changed, skip the unchanged."""
    result = BatchResult(warnings=list(prepared.warnings))
    by_source: dict[str, list[PreparedRecord]] = {}
    for record in prepared.records:
        by_source.setdefault(record.source, []).append(record)
    for source, records in by_source.items():
        _write_source_batch(session, source, records, result, concurrent)
    return result


def _write_source_batch(
    session: Session,
    source: str,
    records: list[PreparedRecord],
    result: BatchResult,
    concurrent: ConcurrentJobs | None,
) -> None:
    found = _lookup(session, source, [r.source_id for r in records])
    existing = {
        source_id: (record_id, content_hash) for source_id, record_id, content_hash, _ in found
    }
    new = [r for r in records if r.source_id not in existing]
    changed = [
        r for r in records if r.source_id in existing and existing[r.source_id][1] != r.content_hash
    ]
    if concurrent is not None and changed:
        result.warnings.extend(_replaced_meanwhile(found, changed, concurrent))
    result.unchanged += len(records) - len(new) - len(changed)
    if not new and not changed:
        return
    # Before any id is taken: the alerts worker reads ids only up to what has committed.
    hold_for_ids(session)
    stamp = utcnow()
    if concurrent is not None:
        concurrent.own_stamps.add(stamp)
    now = _bound(session, _records.c.created_at, stamp)
    ids: dict[str, int] = {}
    if new:
        rows = [(*r.values, r.content_hash, now, now) for r in new]
        columns = (*_RECORD_COLUMNS, "content_hash", "created_at", "updated_at")
        if new_ids := next_ids(session, "records", len(new)):
            insert_rows(session, "records", ("id", *columns), [
                (i, *row) for i, row in zip(new_ids, rows, strict=True)
            ])  # fmt: skip
            ids.update(zip((r.source_id for r in new), new_ids, strict=True))
        else:
            insert_rows(session, "records", columns, rows)
            stored = _lookup(session, source, [r.source_id for r in new])
            ids.update((source_id, record_id) for source_id, record_id, _, _ in stored)
        result.added += len(new)
    if changed:
        changed_ids = [existing[r.source_id][0] for r in changed]
        assignments = ", ".join(f"{c} = {placeholder(session)}" for c in _RECORD_COLUMNS)
        session.connection().exec_driver_sql(
            f"UPDATE records SET {assignments}, content_hash = {placeholder(session)}, "
            f"updated_at = {placeholder(session)} WHERE id = {placeholder(session)}",
            [(*r.values, r.content_hash, now, existing[r.source_id][0]) for r in changed],
        )
        for table in (_holdings, _identifiers):
            session.execute(delete(table).where(table.c.record_id.in_(changed_ids)))
        delete_documents(session, changed_ids)
        ids.update({r.source_id: existing[r.source_id][0] for r in changed})
        result.updated += len(changed)

    written = new + changed
    identifier_rows: list[tuple[object, ...]] = []
    holding_rows: list[tuple[object, ...]] = []
    document_rows: list[tuple[object, ...]] = []
    vocabulary: Counter[str] = Counter()
    for record in written:
        record_id = ids[record.source_id]
        identifier_rows.extend((record_id, *pair) for pair in record.identifiers)
        holding_rows.extend((record_id, *holding, now, now) for holding in record.holdings)
        result.warnings.extend((record.source_id, w) for w in record.holding_warnings)
        document_rows.append((record_id, *record.document))
        if record.source_id not in existing:
            vocabulary.update(record.vocabulary)
    insert_rows(session, "record_identifiers", ("record_id", "scheme", "value"), identifier_rows)
    insert_rows(session, "holdings", _HOLDING_COLUMNS, holding_rows)
    write_documents(session, document_rows)
    _count_words(session, vocabulary)


# Bounded columns: longer values are cut (and reported) rather than failing the batch.
_RECORD_LIMITS = {"clc": 64, "lcc": 64, "ddc": 64, "language": 8}
_ITEM_LIMITS = {"call_number": 100, "location": 200, "barcode": 64, "library_code": 32}
_SOURCE_ID_LIMIT = 200


def _fit_columns(bib: BibRecord, warnings: list[tuple[str, str]]) -> None:
    if len(bib.source_id) > _SOURCE_ID_LIMIT:
        digest = hashlib.sha1(bib.source_id.encode("utf-8")).hexdigest()
        bib.source_id = f"{bib.source_id[: _SOURCE_ID_LIMIT - 41]}#{digest}"
    for name, limit in _RECORD_LIMITS.items():
        value = getattr(bib, name)
        if value and len(value) > limit:
            setattr(bib, name, value[:limit])
            warnings.append((bib.source_id, f"{name} longer than {limit} characters; cut"))
    for item in bib.items:
        for name, limit in _ITEM_LIMITS.items():
            value = getattr(item, name)
            if value and len(value) > limit:
                setattr(item, name, value[:limit])
                warnings.append(
                    (bib.source_id, f"holding {name} longer than {limit} characters; cut")
                )
    bib.other_ids = [(scheme, value[:200]) for scheme, value in bib.other_ids]


def _bound(session: Session, column: Any, value: object) -> object:
    """``value`` as the column type would bind it on this backend."""
    dialect = session.get_bind().dialect
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    return processor(value) if processor else value


def _replaced_meanwhile(
    found: list[tuple[str, int, str | None, datetime]],
    changed: list[PreparedRecord],
    concurrent: ConcurrentJobs,
) -> list[tuple[str, str]]:
    """Records about to be replaced that another job stored since the import began:
    an id in two parts of a file is stored by both jobs, and the later commit wins."""
    changed_ids = {r.source_id for r in changed}
    return [
        (source_id, _REPLACED_MEANWHILE)
        for source_id, _, _, updated_at in found
        if source_id in changed_ids
        and updated_at >= concurrent.since
        and updated_at not in concurrent.own_stamps
    ]


_REPLACED_MEANWHILE = (
    "another job of this import stored a different version of this record meanwhile "
    "(its id is in more than one part of the file); this one replaced it. With one job "
    "the last in the file wins: import with --jobs 1 if that matters"
)


def _lookup(
    session: Session, source: str, source_ids: list[str]
) -> list[tuple[str, int, str | None, datetime]]:
    """(source_id, id, content_hash, updated_at) of the records a batch names that exist."""
    if is_sqlite(session):
        statement = select(
            _records.c.source_id, _records.c.id, _records.c.content_hash, _records.c.updated_at
        ).where(_records.c.source == source, _records.c.source_id.in_(source_ids))
        return [tuple(row) for row in session.execute(statement)]  # type: ignore[misc]
    # A join on an array, not a long IN list: while a table grows during an import its
    # statistics lag, and PostgreSQL would otherwise compare every row with every id.
    rows = session.connection().exec_driver_sql(
        "SELECT r.source_id, r.id, r.content_hash, r.updated_at FROM unnest(%s::text[]) AS k(source_id) "
        "JOIN records r ON r.source_id = k.source_id AND r.source = %s",
        (source_ids, source),
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def delete_records(session: Session, source: str, source_ids: Sequence[str]) -> int:
    """Remove records a source says are deleted; returns how many existed."""
    if not source_ids:
        return 0
    record_ids = list(
        session.scalars(
            select(_records.c.id).where(
                _records.c.source == source, _records.c.source_id.in_(list(source_ids))
            )
        )
    )
    if record_ids:
        delete_documents(session, record_ids)
        for table in (_holdings, _identifiers):
            session.execute(delete(table).where(table.c.record_id.in_(record_ids)))
        session.execute(delete(_records).where(_records.c.id.in_(record_ids)))
    return len(record_ids)


_RECORD_COLUMNS = (
    "source", "source_id", "title", "subtitle", "variant_titles", "authors", "subjects", "clc",
    "lcc", "ddc", "isbns", "issns", "language", "year", "publisher", "format", "links", "summary",
)  # fmt: skip
_HOLDING_COLUMNS = (
    "record_id", "library_code", "barcode", "call_number", "location", "status", "due_date",
    "loanable", "created_at", "updated_at",
)  # fmt: skip


_JSON = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps builds one per call


def _json(value: object) -> str:
    return _JSON(value) if value else "[]"


def _record_values(bib: BibRecord) -> tuple[object, ...]:
    return (
        bib.source, bib.source_id, bib.title, bib.subtitle, _json(bib.variant_titles),
        _json(bib.authors), _json(bib.subjects), bib.clc, bib.lcc, bib.ddc, _json(bib.isbns),
        _json(bib.issns), bib.language, bib.year, bib.publisher, bib.format.value,
        _json(bib.links), bib.summary,
    )  # fmt: skip


def _identifiers_of(bib: BibRecord) -> list[tuple[str, str]]:
    pairs = [("isbn", v) for v in bib.isbns] + [("issn", v) for v in bib.issns]
    pairs += [(scheme, value[:200]) for scheme, value in bib.other_ids]
    return list(dict.fromkeys(pairs))


def _vocabulary_of(bib: BibRecord) -> set[str]:
    """Latin-script words worth suggesting as spelling corrections."""
    text = " ".join([bib.title, bib.subtitle or "", *bib.authors, *bib.subjects])
    return {w for w in words(text) if 3 <= len(w) <= 100 and w.isalpha() and not is_cjk(w)}


def _count_words(session: Session, vocabulary: Counter[str]) -> None:
    if not vocabulary:
        return
    # Sorted, so that concurrent imports take the row locks in the same order.
    counted = sorted(vocabulary.items())
    upsert = (
        "ON CONFLICT (word) DO UPDATE SET frequency = catalog_words.frequency + excluded.frequency"
    )
    connection = session.connection()
    if is_sqlite(session):
        connection.exec_driver_sql(
            f"INSERT INTO catalog_words (word, frequency) VALUES (?, ?) {upsert}", counted
        )
    else:
        # One statement for the batch rather than one per word.
        connection.exec_driver_sql(
            "INSERT INTO catalog_words (word, frequency) "
            f"SELECT * FROM unnest(%s::text[], %s::int[]) {upsert}",
            ([w for w, _ in counted], [n for _, n in counted]),
        )
