"""Federated search: the local union catalog and remote SRU catalogs at once.

Each source has its own time limit; a source that fails or is too slow is reported
and the others' results still come back, marked partial. Results are merged and
de-duplicated by ISBN, then by normalised title and first author.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.orm import Session

from kb.catalog.bibdata import BibRecord
from kb.catalog.models import RecordFormat
from kb.catalog.search import SearchFilters, SearchHit, parse_query, search
from kb.catalog.search.analysis import fold
from kb.catalog.search.query import ParsedQuery
from kb.catalog.search.results import LibraryAvailability
from kb.catalog.sru import SruError, SruSource, search_source
from kb.settings import get_settings

LOCAL = "local"


@dataclass
class SourceOutcome:
    name: str
    ok: bool
    hits: int = 0
    total: int | None = None
    elapsed_ms: float = 0.0
    error: str | None = None
    timed_out: bool = False


@dataclass
class FederatedHit:
    title: str
    authors: list[str]
    year: int | None
    isbns: list[str]
    format: RecordFormat
    publisher: str | None
    links: list[dict[str, Any]]
    sources: list[str]  # "local" and/or SRU source names
    record_id: int | None = None  # set when the union catalog has it
    availability: list[LibraryAvailability] = field(default_factory=list)


@dataclass
class FederatedResult:
    query: ParsedQuery
    hits: list[FederatedHit]
    outcomes: list[SourceOutcome]

    @property
    def partial(self) -> bool:
        """Some source did not answer in time or at all: there may be more."""
        return any(not o.ok for o in self.outcomes)


def configured_sources() -> list[SruSource]:
    return [
        SruSource(
            name=spec["name"],
            url=spec["url"],
            version=spec.get("version", "1.2"),
            record_schema=spec.get("record_schema", "marcxml"),
        )
        for spec in get_settings().catalog_sru_sources
    ]


async def federated_search(
    session_factory: Callable[[], Session],
    query: str,
    *,
    sources: Sequence[SruSource] | None = None,
    filters: SearchFilters | None = None,
    limit: int = 10,
    timeout: float | None = None,
    http_client: httpx.AsyncClient | None = None,
) -> FederatedResult:
    parsed = parse_query(query)
    sources = configured_sources() if sources is None else list(sources)
    timeout = get_settings().catalog_sru_timeout_seconds if timeout is None else timeout
    client = http_client or httpx.AsyncClient(timeout=timeout, follow_redirects=True)
    try:
        local_task = _timed(
            LOCAL, timeout, asyncio.to_thread(_local, session_factory, parsed, filters, limit)
        )
        remote_tasks = [_timed(s.name, timeout, search_source(client, s, parsed)) for s in sources]
        results = await asyncio.gather(local_task, *remote_tasks)
    finally:
        if http_client is None:
            await client.aclose()
    outcomes = [outcome for outcome, _ in results]
    local_hits: list[SearchHit] = results[0][1] or []
    remote: list[tuple[str, list[BibRecord]]] = [
        (outcome.name, payload.records if payload else []) for outcome, payload in results[1:]
    ]
    for outcome, payload in results[1:]:
        if payload is not None:
            outcome.hits, outcome.total = len(payload.records), payload.total
    outcomes[0].hits = len(local_hits)
    return FederatedResult(parsed, merge(local_hits, remote)[:limit], outcomes)


async def _timed(name: str, timeout: float, work: Any) -> tuple[SourceOutcome, Any]:
    started = time.perf_counter()
    try:
        payload = await asyncio.wait_for(work, timeout)
    except TimeoutError:
        elapsed = (time.perf_counter() - started) * 1000
        return SourceOutcome(
            name, False, elapsed_ms=elapsed, timed_out=True, error=f"no answer within {timeout:g} s"
        ), None
    except (SruError, httpx.HTTPError) as error:
        elapsed = (time.perf_counter() - started) * 1000
        return SourceOutcome(
            name, False, elapsed_ms=elapsed, error=str(error) or type(error).__name__
        ), None
    outcome = SourceOutcome(name, True, elapsed_ms=(time.perf_counter() - started) * 1000)
    return outcome, payload


def _local(
    session_factory: Callable[[], Session],
    parsed: ParsedQuery,
    filters: SearchFilters | None,
    limit: int,
) -> list[SearchHit]:
    with session_factory() as session:
        return search(session, parsed, filters=filters, page_size=limit).hits


def merge(
    local: Sequence[SearchHit], remote: Sequence[tuple[str, Sequence[BibRecord]]]
) -> list[FederatedHit]:
    """Local hits in their rank order, then remote ones interleaved source by source;
    a record already present (same ISBN, else same title and first author) only adds
    its source's name."""
    merged: list[FederatedHit] = []
    by_isbn: dict[str, FederatedHit] = {}
    by_key: dict[str, FederatedHit] = {}

    def add(hit: FederatedHit) -> None:
        existing = next((by_isbn[i] for i in hit.isbns if i in by_isbn), None)
        key = match_key(hit.title, hit.authors)
        if existing is None and not hit.isbns:
            existing = by_key.get(key)
        if existing is not None:
            for source in hit.sources:
                if source not in existing.sources:
                    existing.sources.append(source)
            for isbn in hit.isbns:
                by_isbn.setdefault(isbn, existing)
            return
        merged.append(hit)
        for isbn in hit.isbns:
            by_isbn[isbn] = hit
        by_key.setdefault(key, hit)

    for h in local:
        r = h.record
        add(
            FederatedHit(
                r.title,
                list(r.authors),
                r.year,
                list(r.isbns),
                r.format,
                r.publisher,
                list(r.links),
                [LOCAL],
                r.id,
                h.availability,
            )
        )
    longest = max((len(records) for _, records in remote), default=0)
    for index in range(longest):
        for name, records in remote:
            if index < len(records):
                b = records[index]
                add(
                    FederatedHit(
                        b.title, b.authors, b.year, b.isbns, b.format, b.publisher, b.links, [name]
                    )
                )
    return merged


_NON_WORD = re.compile(r"[\W_]+")


def match_key(title: str, authors: Sequence[str]) -> str:
    """Normalised title plus the first author's family name: "Dune" by "Herbert, Frank"
    and "DUNE." by "Frank Herbert" meet."""
    title_key = _NON_WORD.sub("", fold(title))
    author_key = ""
    if authors:
        first = fold(authors[0])
        family = first.split(",")[0] if "," in first else (first.split() or [""])[-1]
        author_key = _NON_WORD.sub("", family)
    return f"{title_key}|{author_key}"
