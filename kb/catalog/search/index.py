"""Writing the search index: an FTS5 table on SQLite, a weighted tsvector on PostgreSQL.

Both hold the same analysed tokens (see ``analysis``) in four fields: title (with
subtitle), authors, subjects and classification, and the rest (publisher, summary).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from kb.catalog.bulkwrite import insert_rows
from kb.catalog.search.analysis import index_token_tuple
from kb.db import is_sqlite

# Field order is the FTS5 column order and the tsvector weight (A highest).
FIELDS = ("title", "author", "subject", "other")
_WEIGHTS = ("A", "B", "C", "D")
_PG_MAX_POSITION = 16383
_FIELD_GAP = 8  # keeps phrases from running across fields in the tsvector


@dataclass(frozen=True)
class IndexDocument:
    title: list[str]
    author: list[str]
    subject: list[str]
    other: list[str]

    @classmethod
    def build(
        cls,
        *,
        title: str,
        subtitle: str | None,
        variant_titles: Sequence[str],
        authors: Sequence[str],
        subjects: Sequence[str],
        classes: Sequence[str | None],
        publisher: str | None,
        summary: str | None,
    ) -> IndexDocument:
        return cls(
            title=_tokens_of([title, subtitle or "", *variant_titles]),
            author=_tokens_of(authors),
            subject=_tokens_of([*subjects, *(c for c in classes if c)]),
            other=_tokens_of([publisher or "", summary or ""]),
        )

    def fields(self) -> tuple[list[str], list[str], list[str], list[str]]:
        return (self.title, self.author, self.subject, self.other)

    def row_values(self, *, sqlite: bool) -> tuple[str, ...]:
        """The document's index row but for its record id: the FTS5 columns on SQLite,
        the tsvector on PostgreSQL."""
        if sqlite:
            return tuple(" ".join(tokens) for tokens in self.fields())
        return (self.tsvector_literal(),)

    def tsvector_literal(self) -> str:
        """A tsvector in its input syntax; built here rather than by to_tsvector so that
        PostgreSQL's locale-dependent parser never re-splits CJK bigrams."""
        positions: dict[str, list[str]] = {}
        start = 1
        for tokens, labels in zip(self.fields(), _LABELS, strict=True):
            for position, token in enumerate(tokens, start):
                positions.setdefault(token, []).append(labels[min(position, _PG_MAX_POSITION)])
            start += len(tokens) + _FIELD_GAP
        quote = _quote_plain if _NEEDS_ESCAPE.isdisjoint("".join(positions)) else quote_lexeme
        return " ".join(
            # PostgreSQL keeps at most 256 positions per lexeme.
            f"{quote(lexeme)}:{','.join(p if len(p) <= 256 else p[:256])}"
            for lexeme, p in positions.items()
        )


# "1A", "2A", ... per weight, made once: a label per token is most of the literal.
_LABELS = tuple(
    [f"{position}{weight}" for position in range(_PG_MAX_POSITION + 1)] for weight in _WEIGHTS
)
_NEEDS_ESCAPE = frozenset("\\'")


def _quote_plain(lexeme: str) -> str:
    return f"'{lexeme}'"


def _tokens_of(values: Iterable[str]) -> list[str]:
    tokens: list[str] = []
    for value in values:
        tokens += index_token_tuple(value or "")  # the cached tuple, not a copy per value
    return tokens


def quote_lexeme(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def write_documents(session: Session, rows: Sequence[tuple[object, ...]]) -> None:
    """Index records that have no document yet (``delete_documents`` first on update):
    rows of (record id, *``IndexDocument.row_values``)."""
    if is_sqlite(session):
        insert_rows(session, "catalog_search_fts", ("rowid", *FIELDS), rows)
    else:
        insert_rows(session, "catalog_search_doc", ("record_id", "document"), rows)


def delete_documents(session: Session, record_ids: Sequence[int]) -> None:
    if not record_ids:
        return
    table, key = (
        ("catalog_search_fts", "rowid")
        if is_sqlite(session)
        else ("catalog_search_doc", "record_id")
    )
    statement = text(f"DELETE FROM {table} WHERE {key} IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    session.execute(statement, {"ids": list(record_ids)})
