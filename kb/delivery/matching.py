"""Which union-catalog records a citation is about.

Exact identifiers first (DOI, ISBN-13, ISSN through ``RecordIdentifier``), then a
normalised title match. The title match is deliberately minimal; the catalog
room's search replaces it once merged -- :func:`candidate_records` is the one
place to swap.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from kb.catalog.models import Record, RecordFormat, RecordIdentifier
from kb.delivery.citations import Citation

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_title(title: str) -> str:
    """Case, width, punctuation and spacing folded away: "Dune: a novel" == "DUNE – A Novel"."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", title).casefold())


def _by_identifiers(session: Session, citation: Citation) -> list[Record]:
    wanted = [
        (scheme, value)
        for scheme, value in (
            ("doi", citation.doi),
            ("isbn", citation.isbn),
            ("issn", citation.issn),
        )
        if value
    ]
    if not wanted:
        return []
    condition = or_(
        *(
            (RecordIdentifier.scheme == scheme) & (RecordIdentifier.value == value)
            for scheme, value in wanted
        )
    )
    ids = select(RecordIdentifier.record_id).where(condition)
    return list(session.scalars(select(Record).where(Record.id.in_(ids)).order_by(Record.id)))


def _by_title(session: Session, title: str, formats: tuple[RecordFormat, ...]) -> list[Record]:
    key = normalise_title(title)
    if len(key) < 2:
        return []
    # Narrow in SQL by the longest word, then compare folded titles in Python.
    words = [w for w in _NOT_WORD.split(unicodedata.normalize("NFKC", title).casefold()) if w]
    probe = max(words, key=len)[:20] if words else key[:20]
    pattern = "%" + probe.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    query = select(Record).where(func.lower(Record.title).like(pattern, escape="\\"))
    if formats:
        query = query.where(Record.format.in_(formats))
    found = []
    for record in session.scalars(query.order_by(Record.id).limit(500)):
        full = record.title + (record.subtitle or "")
        if key in (normalise_title(record.title), normalise_title(full)):
            found.append(record)
    return found


def candidate_records(session: Session, citation: Citation) -> list[Record]:
    """Records (with holdings loaded) that hold what ``citation`` asks for."""
    records = _by_identifiers(session, citation)
    if not records:
        if citation.looks_like_article() and citation.journal:
            records = _by_title(session, citation.journal, (RecordFormat.JOURNAL,))
        elif citation.title:
            records = _by_title(session, citation.title, ())
    if records:
        ids = [r.id for r in records]
        session.scalars(
            select(Record).where(Record.id.in_(ids)).options(selectinload(Record.holdings))
        ).all()
    return records
