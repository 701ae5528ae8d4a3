"""Catalog search: one box over title, author, subject and identifiers, ranked.

SQLite ranks with FTS5's BM25, PostgreSQL with ts_rank over a weighted tsvector; both
index the same analysed tokens, so a query means the same thing on either backend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session, joinedload, selectinload

from kb.catalog.models import Holding, HoldingStatus, Record
from kb.catalog.search.analysis import close_cjk_gaps, words
from kb.catalog.search.expression import (
    AUTHOR,
    TITLE,
    MatchClause,
    fts5_expression,
    tsquery_expression,
)
from kb.catalog.search.query import ParsedQuery, parse_query
from kb.catalog.search.results import (
    ItemView,
    LibraryHoldings,
    LibraryInfo,
    SearchFilters,
    SearchHit,
    SearchPage,
    summarize_availability,
)
from kb.db import is_sqlite

# Counting stops here: "more than 1,000 results" is all a patron needs to know.
COUNT_CAP = 1000
# The best hits are re-ranked so that exact and leading title matches come first.
RERANK_WINDOW = 50
# A query matching more than BROAD_MATCHES records is ranked among its BROAD_WINDOW
# newest matches: BM25 costs tens of microseconds per matching row, so ranking 50,000
# matches of "history" in a million records would take seconds.
BROAD_MATCHES = 500
BROAD_WINDOW = 500
MAX_PAGE_SIZE = 50
# FTS5 bm25 column weights, and ts_rank weights {D, C, B, A}: title > author > subject > rest.
_FTS5_WEIGHTS = "10.0, 5.0, 2.0, 1.0"
_TS_RANK_WEIGHTS = "{0.1, 0.3, 0.6, 1.0}"
_EXACT_SCORE = 1000.0


def search(
    session: Session,
    query: str | ParsedQuery,
    *,
    filters: SearchFilters | None = None,
    page: int = 1,
    page_size: int = 5,
) -> SearchPage:
    """Ranked hits for what a patron typed; ``page`` counts from 1."""
    parsed = parse_query(query) if isinstance(query, str) else query
    filters = filters or SearchFilters()
    page = max(page, 1)
    page_size = min(max(page_size, 1), MAX_PAGE_SIZE)
    if parsed.formats and not filters.formats:
        with_formats = replace(filters, formats=parsed.formats)
        result = _search(session, parsed, with_formats, page, page_size)
        if result.hits or page > 1:
            return result
        result = _search(session, parsed, filters, page, page_size)
        return replace(result, ignored_formats=parsed.formats)
    return _search(session, parsed, filters, page, page_size)


def _search(
    session: Session, parsed: ParsedQuery, filters: SearchFilters, page: int, page_size: int
) -> SearchPage:
    offset = (page - 1) * page_size
    ranked: list[tuple[int, float]] = []
    total, capped, by_identifier = 0, False, False
    if parsed.isbns or parsed.issns:
        ids = _identifier_matches(session, parsed, filters)
        if ids:
            by_identifier = True
            total = len(ids)
            ranked = [(i, _EXACT_SCORE) for i in ids[offset : offset + page_size]]
    clauses = [
        c
        for c in (
            MatchClause.of(parsed.title, TITLE),
            MatchClause.of(parsed.author, AUTHOR),
            MatchClause.of(parsed.keywords),
        )
        if c
    ]
    if not by_identifier and clauses:
        if offset + page_size <= RERANK_WINDOW:
            ranked, total, capped = _ranked(session, clauses, filters, RERANK_WINDOW, 0)
            ranked = _favour_title_matches(session, ranked, parsed.title or parsed.keywords)
            ranked = ranked[offset : offset + page_size]
        else:
            ranked, total, capped = _ranked(session, clauses, filters, page_size, offset)
    hits = _load_hits(session, ranked, by_identifier)
    return SearchPage(parsed, filters, hits, total, capped, page, page_size)


def _favour_title_matches(
    session: Session, ranked: list[tuple[int, float]], wanted: str
) -> list[tuple[int, float]]:
    """Among the best hits, a title that is what the patron typed comes first, then one
    that starts with it: 《活着》 is 活着 before 活着的意义, "Dune" before "Dune messiah"."""
    key = _title_key(wanted)
    if not ranked or not key:
        return ranked
    rows = session.execute(
        select(Record.id, Record.title).where(Record.id.in_([i for i, _ in ranked]))
    )
    titles = {record_id: title for record_id, title in rows}

    def boosted(item: tuple[int, float]) -> float:
        title = _title_key(titles.get(item[0], ""))
        bonus = 1.0 if title == key else 0.5 if title.startswith(key) else 0.0
        return item[1] * (1 + bonus)

    return sorted(((i, boosted((i, score))) for i, score in ranked), key=lambda x: (-x[1], x[0]))


def _title_key(text_value: str) -> str:
    return "".join(words(close_cjk_gaps(text_value or "")))


def availability(session: Session, record_id: int) -> list[LibraryHoldings]:
    """Every copy of a record, grouped by member library (libraries with a copy on the
    shelf first), with call number, location, status and due date."""
    holdings = session.scalars(
        select(Holding)
        .where(Holding.record_id == record_id)
        .options(joinedload(Holding.library))
        .order_by(Holding.library_code, Holding.id)
    ).all()
    grouped: dict[str, LibraryHoldings] = {}
    for h in holdings:
        entry = grouped.setdefault(h.library_code, LibraryHoldings(LibraryInfo.of(h.library), []))
        entry.items.append(
            ItemView(h.call_number, h.location, h.status, h.due_date, h.loanable, h.barcode)
        )
    return sorted(grouped.values(), key=lambda g: (g.available == 0, g.library.code))


def _identifier_matches(session: Session, parsed: ParsedQuery, filters: SearchFilters) -> list[int]:
    where, params = _filter_sql(filters)
    sql = (
        "SELECT DISTINCT i.record_id FROM record_identifiers i "
        "JOIN records r ON r.id = i.record_id WHERE ((i.scheme = 'isbn' AND i.value IN :isbns) "
        "OR (i.scheme = 'issn' AND i.value IN :issns))"
        f"{where} ORDER BY i.record_id LIMIT {COUNT_CAP}"
    )
    statement = _with_expanding(text(sql), params, "isbns", "issns")
    params |= {"isbns": list(parsed.isbns) or [""], "issns": list(parsed.issns) or [""]}
    return list(session.scalars(statement, params))


def _filter_sql(filters: SearchFilters) -> tuple[str, dict[str, Any]]:
    """SQL conditions on records ``r``; values only ever travel as bound parameters."""
    conditions: list[str] = []
    params: dict[str, Any] = {}
    if filters.language:
        conditions.append("r.language = :language")
        params["language"] = filters.language
    if filters.year_from is not None:
        conditions.append("r.year >= :year_from")
        params["year_from"] = filters.year_from
    if filters.year_to is not None:
        conditions.append("r.year <= :year_to")
        params["year_to"] = filters.year_to
    if filters.formats:
        conditions.append("r.format IN :formats")
        params["formats"] = [f.value for f in filters.formats]
    if filters.libraries or filters.available_now:
        holding = ["h.record_id = r.id"]
        if filters.libraries:
            holding.append("h.library_code IN :libraries")
            params["libraries"] = list(filters.libraries)
        if filters.available_now:
            holding.append(f"h.status = '{HoldingStatus.AVAILABLE.value}'")
        conditions.append(f"EXISTS (SELECT 1 FROM holdings h WHERE {' AND '.join(holding)})")
    return "".join(f" AND {c}" for c in conditions), params


def _with_expanding(statement: Any, params: dict[str, Any], *extra: str) -> Any:
    names = [n for n in ("formats", "libraries") if n in params] + list(extra)
    return statement.bindparams(*(bindparam(n, expanding=True) for n in names))


@dataclass(frozen=True)
class _Engine:
    """The backend-specific pieces of a ranked full-text query."""

    source: str  # the index table, aliased
    key: str  # its record id column
    join: str  # how records ``r`` join it, for filters
    match: str  # the match condition on :match
    score: str  # higher is better
    expression: Callable[[list[MatchClause]], str]
    params: dict[str, Any]


_FTS5 = _Engine(
    source="catalog_search_fts f",
    key="f.rowid",
    join=" JOIN records r ON r.id = f.rowid",
    match="catalog_search_fts MATCH :match",
    score=f"-bm25(catalog_search_fts, {_FTS5_WEIGHTS})",
    expression=fts5_expression,
    params={},
)
_POSTGRES = _Engine(
    source="catalog_search_doc d",
    key="d.record_id",
    join=" JOIN records r ON r.id = d.record_id",
    match="d.document @@ CAST(:match AS tsquery)",
    score="ts_rank(CAST(:weights AS float4[]), d.document, CAST(:match AS tsquery), 1)",
    expression=tsquery_expression,
    params={"weights": _TS_RANK_WEIGHTS},
)


def _ranked(
    session: Session,
    clauses: list[MatchClause],
    filters: SearchFilters,
    limit: int,
    offset: int,
) -> tuple[list[tuple[int, float]], int, bool]:
    """(record id, score) best first, the number of matches (up to COUNT_CAP), and
    whether there are more. A broad query is ranked among its BROAD_WINDOW most
    recently catalogued matches, which keeps its cost bounded on millions of records."""
    engine = _FTS5 if is_sqlite(session) else _POSTGRES
    where, params = _filter_sql(filters)
    params |= engine.params | {"match": engine.expression(clauses)}
    source = engine.source + (engine.join if where else "")
    condition = f"{engine.match}{where}"

    def run(sql: str, **extra: Any) -> Any:
        return session.execute(_with_expanding(text(sql), params), params | extra)

    total = run(
        f"SELECT count(*) FROM (SELECT 1 FROM {source} WHERE {condition} LIMIT :cap) AS m",
        cap=COUNT_CAP + 1,
    ).scalar_one()
    if total > BROAD_MATCHES:
        bound = run(
            f"SELECT {engine.key} FROM {source} WHERE {condition} "
            f"ORDER BY {engine.key} DESC LIMIT 1 OFFSET :window",
            window=BROAD_WINDOW - 1,
        ).scalar()
        if bound is not None:
            condition += f" AND {engine.key} >= :bound"
            params["bound"] = bound
    rows = run(
        f"SELECT {engine.key} AS id, {engine.score} AS score FROM {source} WHERE {condition} "
        "ORDER BY score DESC, id LIMIT :limit OFFSET :offset",
        limit=limit,
        offset=offset,
    ).all()
    return [(r.id, float(r.score)) for r in rows], min(total, COUNT_CAP), total > COUNT_CAP


def _load_hits(
    session: Session, ranked: list[tuple[int, float]], by_identifier: bool
) -> list[SearchHit]:
    if not ranked:
        return []
    records = {
        r.id: r
        for r in session.scalars(
            select(Record)
            .where(Record.id.in_([i for i, _ in ranked]))
            .options(selectinload(Record.holdings).joinedload(Holding.library))
        )
    }
    return [
        SearchHit(records[i], score, summarize_availability(records[i].holdings), by_identifier)
        for i, score in ranked
        if i in records
    ]
