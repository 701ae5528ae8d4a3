"""Turning parsed query parts into the backends' match languages.

Every token comes from ``analysis`` and holds only letters and digits; it is still
quoted in both languages, and the expression travels as a bound parameter.
"""

from __future__ import annotations

from dataclasses import dataclass

from kb.catalog.search.analysis import is_prefix_unit, query_units
from kb.catalog.search.index import quote_lexeme

# Field restriction: FTS5 column name and tsvector weight.
TITLE = ("title", "A")
AUTHOR = ("author", "B")


@dataclass(frozen=True)
class MatchClause:
    units: tuple[tuple[str, ...], ...]
    field: tuple[str, str] | None = None  # None = any field

    @classmethod
    def of(cls, text: str | None, field: tuple[str, str] | None = None) -> MatchClause | None:
        units = tuple(tuple(u) for u in query_units(text or ""))
        return cls(units, field) if units else None


def fts5_expression(clauses: list[MatchClause]) -> str:
    parts = []
    for clause in clauses:
        terms = []
        for unit in clause.units:
            phrase = '"' + " ".join(unit) + '"'
            terms.append(phrase + " *" if is_prefix_unit(list(unit)) else phrase)
        body = " AND ".join(terms)
        parts.append(f"{{{clause.field[0]}}} : ({body})" if clause.field else f"({body})")
    return " AND ".join(parts)


def tsquery_expression(clauses: list[MatchClause]) -> str:
    parts = []
    for clause in clauses:
        label = clause.field[1] if clause.field else ""
        for unit in clause.units:
            if is_prefix_unit(list(unit)):
                parts.append(f"{quote_lexeme(unit[0])}:*{label}")
                continue
            lexemes = [f"{quote_lexeme(t)}:{label}" if label else quote_lexeme(t) for t in unit]
            parts.append("(" + " <-> ".join(lexemes) + ")" if len(lexemes) > 1 else lexemes[0])
    return " & ".join(parts)
