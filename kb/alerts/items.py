"""Things to announce: new catalog records and holdings (read by the alerts worker after
each import or harvest through durable cursors), news and events from RSS/Atom feeds, and
librarians' announcements. Each item is tagged with vocabulary classes (from its CLC
number, subjects and title) and normalised terms (for free keywords)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kb.alerts.models import AlertCursor, AlertItem, ItemKind
from kb.alerts.text import terms
from kb.alerts.vocabulary import Vocabulary, vocabulary
from kb.catalog.imports.collector import fewer_collections
from kb.catalog.ingestlock import committed_bounds
from kb.catalog.models import Holding, Record
from kb.db import is_sqlite, utcnow

MAX_TERMS = 400
SCAN_BATCH = 2000


def tag(
    vocab: Vocabulary,
    *,
    clc: str | None = None,
    subjects: Iterable[str] = (),
    title: str = "",
    text: str = "",
) -> tuple[list[str], list[str]]:
    """(vocabulary classes, terms) of an item."""
    codes = set(vocab.classes_of(clc))
    for phrase in [*subjects, title]:
        codes |= vocab.classes_named(phrase or "")
    words = terms(" ".join([title, *subjects, text]))
    return sorted(codes), sorted(words)[:MAX_TERMS]


def insert_items(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert items, ignoring those whose source_key is already there."""
    if not rows:
        return 0
    table = AlertItem.__table__
    dialect = sqlite if is_sqlite(session) else postgresql
    now = utcnow()
    for row in rows:
        row.setdefault("created_at", now)
        row.setdefault("publish_at", now)
    stmt = (
        dialect.insert(table)
        .on_conflict_do_nothing(index_elements=["source_key"])
        .returning(table.c.id)
    )
    return len(session.execute(stmt, rows).all())


def _cursor(session: Session, name: str) -> AlertCursor:
    cursor = session.get(AlertCursor, name, with_for_update=not is_sqlite(session))
    if cursor is None:
        cursor = AlertCursor(name=name, position=0)
        session.add(cursor)
        session.flush()
    return cursor


# What an item is made of; read as plain rows, not ORM objects (imports make thousands).
_RECORD_FIELDS = (
    Record.id, Record.title, Record.subtitle, Record.subjects, Record.clc, Record.authors,
    Record.summary, Record.publisher, Record.year, Record.links,
)  # fmt: skip


def _record_row(
    vocab: Vocabulary, record: Any, kind: ItemKind, key: str, library: str | None = None
) -> dict[str, Any]:
    """``record``: a Record or a row of ``_RECORD_FIELDS``."""
    subjects = list(record.subjects or [])
    title = record.title + (f"：{record.subtitle}" if record.subtitle else "")
    codes, words = tag(
        vocab,
        clc=record.clc,
        subjects=subjects,
        title=title,
        text=" ".join([*(record.authors or []), record.summary or ""]),
    )
    byline = "; ".join((record.authors or [])[:2])
    summary = " · ".join(p for p in [byline, record.publisher or "", str(record.year or "")] if p)
    links = record.links or []
    return {
        "kind": kind,
        "source_key": key,
        "record_id": record.id,
        "title": title[:1000],
        "summary": summary or None,
        "url": (links[0] or {}).get("url") if links else None,
        "library_code": library,
        "topics": codes,
        "terms": words,
    }


@fewer_collections()  # thousands of items: the same allocation pattern as an import
def collect_catalog(session: Session, vocab: Vocabulary | None = None) -> int:
    """Turn records and holdings added since the last call into items; commits per batch.

    The cursors are the highest record and holding ids read, kept in the database and
    advanced in the same transaction as the items they produced, so a crash loses or
    repeats nothing (items are unique by source_key in any case).
    """
    vocab = vocab or vocabulary()
    made = 0
    # Only up to ids no running import can still commit (kb.catalog.ingestlock): the
    # cursors must never move past a record that appears later.
    record_bound, holding_bound = committed_bounds(session)
    while True:
        cursor = _cursor(session, "catalog:records")
        records = session.execute(
            select(*_RECORD_FIELDS)
            .where(Record.id > cursor.position, _at_most(Record.id, record_bound))
            .order_by(Record.id)
            .limit(SCAN_BATCH)
        ).all()
        if not records:
            session.commit()
            break
        held: dict[int, set[str]] = {}
        for record_id, library in session.execute(
            select(Holding.record_id, Holding.library_code).where(
                Holding.record_id.in_([r.id for r in records])
            )
        ):
            held.setdefault(record_id, set()).add(library)
        rows = []
        for r in records:
            row = _record_row(vocab, r, ItemKind.RECORD, f"record:{r.id}")
            row["libraries"] = sorted(held.get(r.id, ()))
            rows.append(row)
        made += insert_items(session, rows)
        cursor.position = records[-1].id
        session.commit()
    while True:
        cursor = _cursor(session, "catalog:holdings")
        found = session.execute(
            select(Holding.id, Holding.record_id, Holding.library_code)
            .where(Holding.id > cursor.position, _at_most(Holding.id, holding_bound))
            .order_by(Holding.id)
            .limit(SCAN_BATCH)
        ).all()
        if not found:
            session.commit()
            break
        # Copies that came with their record are announced by the record's item; copies
        # of a record the catalog already had are news ("now also at PKU").
        wanted = dict.fromkeys((record_id, library) for _, record_id, library in found)
        record_ids = {rid for rid, _ in wanted}
        announced = {
            record_id: set(libraries or ())
            for record_id, libraries in session.execute(
                select(AlertItem.record_id, AlertItem.libraries).where(
                    AlertItem.kind == ItemKind.RECORD, AlertItem.record_id.in_(record_ids)
                )
            )
        }
        # Only records with copies to announce are read (after an import, usually none).
        news = {rid for rid, library in wanted if library not in announced.get(rid, {library})}
        by_id = {
            r.id: r for r in session.execute(select(*_RECORD_FIELDS).where(Record.id.in_(news)))
        }
        rows = []
        for record_id, library in wanted:
            record = by_id.get(record_id)
            if record is None or library in announced.get(record_id, {library}):
                # Gone, announced with its record, or a record from before alerts began
                # (copies re-written by a re-import are not news).
                continue
            rows.append(
                _record_row(
                    vocab, record, ItemKind.HOLDING, f"holding:{record_id}:{library}", library
                )
            )
        made += insert_items(session, rows)
        cursor.position = found[-1][0]
        session.commit()
    return made


def _at_most(column: Any, bound: int | None) -> ColumnElement[bool]:
    return true() if bound is None else column <= bound


def collect_and_match(session: Session) -> tuple[int, int]:
    """The alerts worker's matching run (job ``alerts-match``, ``refdesk alerts match``):
    records and holdings ingested since the cursors become items, then every unmatched
    item is matched. Imports do not call it: tagging costs more CPU than storing, so it
    runs in the worker after each ingestion, from the cursors the imports' own
    transactions moved past. Returns (new items, delivery rows written)."""
    from kb.alerts.matching import match_pending

    return collect_catalog(session), match_pending(session)


# --- feeds ---------------------------------------------------------------------


def _entry_time(entry: Any) -> datetime | None:
    for name in ("published_parsed", "updated_parsed"):
        value = entry.get(name)
        if value:
            year, month, day, hour, minute, second = value[:6]
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return None


def feed_rows(vocab: Vocabulary, url: str, parsed: Any) -> list[dict[str, Any]]:
    rows = []
    for entry in parsed.entries:
        key = entry.get("id") or entry.get("link") or entry.get("title")
        if not key or not entry.get("title"):
            continue
        tags = [t.get("term", "") for t in entry.get("tags") or [] if t.get("term")]
        summary = _plain(entry.get("summary") or "")
        codes, words = tag(vocab, subjects=tags, title=entry.title, text=summary)
        rows.append(
            {
                "kind": ItemKind.NEWS,
                "source_key": f"news:{url}:{key}"[:300],
                "title": entry.title[:1000],
                "summary": summary[:500] or None,
                "url": entry.get("link"),
                "topics": codes,
                "terms": words,
                "publish_at": utcnow(),
                "created_at": _entry_time(entry) or utcnow(),
            }
        )
    return rows


def _plain(html: str) -> str:
    import re

    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def item_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AlertItem)) or 0)
