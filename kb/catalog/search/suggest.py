"""Suggestions when a search finds nothing: a spelling fix, a broader query, the same
subject in the other language. Every suggestion is checked to find something."""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from kb.catalog.models import CatalogWord
from kb.catalog.search.analysis import contains_cjk, fold, is_cjk, words
from kb.catalog.search.query import ParsedQuery, parse_query
from kb.catalog.search.results import SearchFilters
from kb.catalog.search.service import search
from kb.db import is_sqlite

GLOSSARY = Path(__file__).resolve().parent.parent.parent / "data" / "catalog" / "glossary.txt"
_MIN_SIMILARITY = 0.75


@dataclass(frozen=True)
class Suggestion:
    query: str  # a query to offer as-is ("Did you mean …")
    hits: int  # how many records it finds (at least 1)


@dataclass
class Suggestions:
    spelling: list[Suggestion] = field(default_factory=list)
    broader: list[Suggestion] = field(default_factory=list)
    other_language: list[Suggestion] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.spelling or self.broader or self.other_language)


@dataclass(frozen=True)
class GlossaryEntry:
    zh: str
    en: str
    broader_zh: str | None


@lru_cache(maxsize=1)
def glossary() -> tuple[GlossaryEntry, ...]:
    entries = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            zh, en, broader = ([c.strip() for c in line.split("|")] + [""] * 3)[:3]
            entries.append(GlossaryEntry(zh, en, broader or None))
    return tuple(entries)


def suggest(
    session: Session, query: str | ParsedQuery, *, filters: SearchFilters | None = None
) -> Suggestions:
    parsed = parse_query(query) if isinstance(query, str) else query
    filters = filters or SearchFilters()
    result = Suggestions()
    seen = {parsed.text.casefold()}

    def offer(into: list[Suggestion], candidate: str) -> None:
        candidate = " ".join(candidate.split())
        if not candidate or candidate.casefold() in seen:
            return
        seen.add(candidate.casefold())
        hits = search(session, candidate, filters=filters, page_size=1).total
        if hits:
            into.append(Suggestion(candidate, hits))

    text_part = " ".join(filter(None, [parsed.title, parsed.author, parsed.keywords]))
    corrected = _spelling(session, text_part)
    if corrected:
        offer(result.spelling, corrected)
    for candidate in _broader(parsed):
        if len(result.broader) >= 3:
            break
        offer(result.broader, candidate)
    for candidate in _other_language(text_part):
        offer(result.other_language, candidate)
    return result


def _spelling(session: Session, query: str) -> str | None:
    """The query with each unknown Latin word replaced by the closest catalog word."""
    changed = False
    out = []
    for word in words(query):
        if is_cjk(word) or not word.isalpha() or len(word) < 3 or _known(session, word):
            out.append(word)
            continue
        best = _closest(session, word)
        changed = changed or best is not None
        out.append(best or word)
    return " ".join(out) if changed else None


def _known(session: Session, word: str) -> bool:
    return session.get(CatalogWord, word) is not None


def _closest(session: Session, word: str) -> str | None:
    if is_sqlite(session):
        # Same first letter, similar length: a narrow slice of the word list.
        rows = session.execute(
            select(CatalogWord.word, CatalogWord.frequency)
            .where(
                CatalogWord.word >= word[0],
                CatalogWord.word < chr(ord(word[0]) + 1),
                text("length(word) BETWEEN :low AND :high"),
            )
            .order_by(CatalogWord.frequency.desc())
            .limit(5000),
            {"low": len(word) - 2, "high": len(word) + 2},
        ).all()
    else:
        rows = session.execute(
            text(
                "SELECT word, frequency FROM catalog_words WHERE word % :w "
                "ORDER BY similarity(word, :w) DESC, frequency DESC LIMIT 20"
            ),
            {"w": word},
        ).all()
    scored = [(difflib.SequenceMatcher(None, word, w).ratio(), f, w) for w, f in rows if w != word]
    scored = [s for s in scored if s[0] >= _MIN_SIMILARITY]
    return max(scored)[2] if scored else None


def _broader(parsed: ParsedQuery) -> list[str]:
    """Fewer conditions: without the author, without the title restriction, with one
    word or Chinese word fewer, a broader subject term."""
    candidates: list[str] = []
    if parsed.author and (parsed.title or parsed.keywords):
        candidates.append(" ".join(filter(None, [parsed.title, parsed.keywords])))
    text_part = " ".join(filter(None, [parsed.title, parsed.keywords]))
    terms = _terms(text_part)
    for entry in _glossary_matches(text_part, terms):
        broader = next((e for e in glossary() if e.zh == entry.broader_zh), None)
        if broader is None:
            continue
        if contains_cjk(text_part):
            candidates.append(text_part.replace(entry.zh, broader.zh))
        else:
            candidates.append(fold(text_part).replace(entry.en, broader.en))
    if len(terms) > 1:
        # Longest first: the most specific words are the likeliest to be the problem.
        for drop in sorted(terms, key=len):
            candidates.append(" ".join(t for t in terms if t != drop))
        candidates.extend(sorted(terms, key=len, reverse=True))
    return candidates


def _terms(text_part: str) -> list[str]:
    """Words of a query; a run of Chinese is cut into words with jieba."""
    terms: list[str] = []
    for word in words(text_part):
        if is_cjk(word) and len(word) > 3:
            terms.extend(t for t in _jieba_cut(word) if len(t) > 1)
        else:
            terms.append(word)
    return list(dict.fromkeys(terms))


def _jieba_cut(text_value: str) -> list[str]:
    import jieba  # loads its dictionary on first use; only zero-hit searches need it

    jieba.setLogLevel(logging.WARNING)
    return list(jieba.cut(text_value))


def _glossary_matches(text_part: str, terms: list[str]) -> list[GlossaryEntry]:
    """Glossary terms the query contains as whole words (化学 is not in 强化学习)."""
    runs = set(terms) | set(words(text_part))
    padded = f" {' '.join(words(text_part))} "
    return [
        e
        for e in sorted(glossary(), key=lambda e: -len(e.en))
        if e.zh in runs or f" {e.en} " in padded
    ]


def _other_language(text_part: str) -> list[str]:
    chinese = contains_cjk(text_part)
    candidates = [
        e.en if chinese else e.zh for e in _glossary_matches(text_part, _terms(text_part))
    ]
    return list(dict.fromkeys(candidates))[:2]


__all__ = ["Suggestion", "Suggestions", "suggest"]
