"""Citations: what a request asks for, read from pasted reference text.

Reads the reference styles patrons paste: GB/T 7714 (Chinese national
standard: ``[1] 刘慈欣. 三体[M]. 重庆: 重庆出版社, 2008.``), APA, MLA, Vancouver,
and a bare title. Identifiers (DOI, ISBN, ISSN, PMID) are taken out first.
Nothing is invented: a field the text does not give stays empty, and
:meth:`Citation.missing` says what a request still needs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import unquote

from kb.delivery.identifiers import find_identifiers
from kb.delivery.states import Genre
from kb.delivery.texts import Problem

BIBLIOGRAPHIC_FIELDS = (
    "title",
    "article_title",
    "journal",
    "authors",
    "year",
    "volume",
    "issue",
    "pages",
    "publisher",
    "place",
    "edition",
    "isbn",
    "issn",
    "doi",
    "pmid",
)


@dataclass
class Citation:
    genre: Genre = Genre.UNKNOWN
    title: str | None = None  # book, thesis or report title; the book of a chapter
    article_title: str | None = None  # article or chapter title
    journal: str | None = None
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    publisher: str | None = None
    place: str | None = None
    edition: str | None = None
    isbn: str | None = None  # ISBN-13 digits
    issn: str | None = None  # NNNN-NNNC
    doi: str | None = None  # lowercase
    pmid: str | None = None

    def present(self) -> list[str]:
        return [name for name in BIBLIOGRAPHIC_FIELDS if getattr(self, name)]

    def looks_like_article(self) -> bool:
        return self.genre is Genre.ARTICLE or (
            self.genre is Genre.UNKNOWN
            and bool(self.article_title or self.journal or self.issn or self.doi or self.pmid)
        )

    def missing(self) -> list[str]:
        """What a librarian still needs to find the item (field names, see texts.FIELD_NAMES)."""
        if self.doi or self.pmid:
            return []  # resolvable on their own
        if self.genre is Genre.CHAPTER:
            need = [] if (self.title or self.isbn) else ["title"]
            return need + ([] if (self.article_title or self.pages) else ["chapter"])
        if self.looks_like_article():
            need = [] if (self.journal or self.issn) else ["journal"]
            return need + ([] if self.article_title else ["article_title"])
        return [] if (self.title or self.isbn) else ["title"]

    def merged_with(self, other: Citation) -> Citation:
        """This citation with its empty fields filled from ``other`` (never overwritten)."""
        updates: dict[str, Any] = {}
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name == "genre":
                if mine is Genre.UNKNOWN and theirs is not Genre.UNKNOWN:
                    updates["genre"] = theirs
            elif not mine and theirs:
                updates[f.name] = theirs
        return replace(self, **updates)

    def label(self) -> str:
        """A one-line description for summaries and queues."""
        main = self.article_title or self.title or self.journal or ""
        parts = [main] if main else []
        if self.article_title and (self.journal or self.title):
            parts.append(self.journal or self.title or "")
        if self.year:
            parts.append(str(self.year))
        ids = [f"doi:{self.doi}" if self.doi else "", f"PMID {self.pmid}" if self.pmid else ""]
        ids += [f"ISBN {self.isbn}" if self.isbn else ""]
        parts += [i for i in ids if i]
        return " / ".join(parts)


@dataclass
class ParseResult:
    citation: Citation
    kind: str  # doi / isbn / pmid / issn / openurl / citation / title / empty
    style: str | None = None  # gbt7714 / apa / mla / vancouver / plain
    problems: list[Problem] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return self.citation.missing() if self.kind != "empty" else ["title"]

    @property
    def complete(self) -> bool:
        return not self.missing


# --- helpers -----------------------------------------------------------------------

_YEAR = re.compile(r"(?<!\d)(1[5-9]\d{2}|20\d{2})(?!\d)")
_REF_NUMBER = re.compile(r"^\s*(?:\[\d+\]|\(\d+\)|\d{1,3}[.)](?=\s))\s*")
_SEPARATOR_RUN = re.compile(r"(?:\s*[.,;:]){2,}\s*")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_LEFTOVER_LABELS = re.compile(
    r"\b(?:Available (?:from|at)|Retrieved from|\[Online\]|DOI|doi|URL|PMID|ISBN|ISSN)\s*[:：]?\s*$"
)
_ET_AL = re.compile(r"\s*(?:,?\s*et al\.?|，?等|,\s*等)\s*$")
_PAGES = r"[A-Za-z]?\d+(?:\s*[-–—~]\s*[A-Za-z]?\d+)?(?:\s*,\s*[A-Za-z]?\d+(?:[-–]\d+)?)*"


def year_of(text: str | None) -> int | None:
    match = _YEAR.search(text or "")
    return int(match.group(1)) if match else None


def clean(value: str | None) -> str | None:
    """Strip whitespace, wrapping quotes/brackets and trailing separators; None if nothing left."""
    if value is None:
        return None
    value = " ".join(value.split())
    value = value.strip(" \t,;:/")
    while len(value) > 1 and value[0] + value[-1] in ('""', "“”", "《》", "''", "‘’", "「」", "<>"):
        value = value[1:-1].strip()
    value = value.rstrip(" .,;:/").strip()
    return value or None


def normalize_pages(pages: str | None) -> str | None:
    if not pages:
        return None
    return re.sub(r"\s*[–—~]\s*|\s*-\s*", "-", pages.strip().rstrip("."))


def split_authors(text: str | None) -> list[str]:
    if not text:
        return []
    text = _ET_AL.sub("", text.strip().rstrip("."))
    text = re.sub(r",?\s*(?:&|\band\b)\s*", ", ", text)
    parts = [p for p in re.split(r"\s*[,、;]\s*", text) if p.strip()]
    return [a for a in (clean(p) for p in parts) if a and a not in ("等", "et al")]


_ENCODED_LINK = re.compile(r"(?:https?://|doi:|10\.)\S*%[0-9A-Fa-f]{2}\S*", re.IGNORECASE)
_SPACED_PUNCTUATION = str.maketrans({"．": ". ", "。": ". ", "，": ", ", "：": ": ", "；": "; "})


def _normalise_text(text: str) -> str:
    # Full-width separators become ASCII ones followed by a space (GB/T references are
    # often typed with them); NFKC then folds the rest (（）［］, full-width digits).
    text = unicodedata.normalize("NFKC", text.translate(_SPACED_PUNCTUATION))
    # Links are pasted percent-encoded (https://doi.org/10.1038%2Fnature14539).
    text = _ENCODED_LINK.sub(lambda m: unquote(m.group(0)), text)
    return " ".join(text.split())


# --- GB/T 7714 ------------------------------------------------------------------------

# A full stop that ends a part of a reference (not the one in "3.8").
_PERIOD = re.compile(r"\.(?!\d)\s*")
_GBT = re.compile(r"^(?P<head>.*?)\[(?P<code>[A-Z]{1,2})(?:/OL)?\](?P<rest>.*)$")
_GBT_GENRE = {
    "M": Genre.BOOK,
    "C": Genre.BOOK,  # proceedings
    "G": Genre.BOOK,  # collection
    "R": Genre.BOOK,  # report
    "S": Genre.BOOK,  # standard
    "J": Genre.ARTICLE,
    "N": Genre.ARTICLE,  # newspaper article
    "D": Genre.THESIS,
    "A": Genre.CHAPTER,  # 析出文献 (GB/T 7714-2005)
}
_GBT_SERIAL = re.compile(
    rf"^(?P<journal>[^,]+?),\s*(?P<date>\d{{4}}(?:-\d{{1,2}}){{0,2}})"
    rf"(?:,\s*(?P<volume>[^(:,]+?))?\s*(?:\((?P<issue>[^)]+)\))?"
    rf"(?:\s*:\s*(?P<pages>{_PAGES}))?\s*\.?\s*$"
)
_GBT_IMPRINT = re.compile(
    rf"^(?:(?P<edition>[^.:]*?(?:版|ed\.?|edition))\.\s*)?"
    rf"(?:(?P<place>[^:.]+?)\s*:\s*)?(?P<publisher>[^:]+?),\s*(?P<year>\d{{4}})[^:]*?"
    rf"(?:\s*:\s*(?P<pages>{_PAGES}))?\s*\.?\s*$"
)


def _parse_gbt(text: str) -> Citation | None:
    match = _GBT.match(text)
    if match is None:
        return None
    code = match.group("code")
    head, rest = match.group("head").strip(), match.group("rest").strip()
    pieces = _PERIOD.split(head, maxsplit=1)
    authors_part, title_part = (pieces[0], pieces[1]) if len(pieces) == 2 else ("", head)
    cit = Citation(genre=_GBT_GENRE.get(code, Genre.UNKNOWN), authors=split_authors(authors_part))
    title = clean(title_part)
    if rest.startswith("//"):
        # 析出文献 (a part of a larger work): "//编者. 文集名. 出版地: 出版者, 年: 页码."
        parts = [p for p in _PERIOD.split(rest[2:].strip()) if p.strip()]
        head_parts, rest = (parts[:-1], parts[-1]) if len(parts) > 1 else (parts, "")
        container = clean(head_parts[-1]) if head_parts else None
        cit.article_title = title
        if cit.genre is Genre.ARTICLE:
            cit.journal = container
        else:
            cit.genre, cit.title = Genre.CHAPTER, container
    elif cit.genre is Genre.ARTICLE:
        cit.article_title = title
        serial = _GBT_SERIAL.match(rest.lstrip(". "))
        if serial is None:
            cit.journal, cit.year = clean(rest.lstrip(". ").split(",")[0]), year_of(rest)
            return cit
        cit.journal = clean(serial.group("journal"))
        cit.year = year_of(serial.group("date"))
        cit.volume = clean(serial.group("volume"))
        cit.issue = clean(serial.group("issue"))
        cit.pages = normalize_pages(serial.group("pages"))
        return cit
    else:
        cit.title = title
    imprint = _GBT_IMPRINT.match(rest.lstrip(". ").strip())
    if imprint:
        cit.edition = clean(imprint.group("edition"))
        cit.place = clean(imprint.group("place"))
        cit.publisher = clean(imprint.group("publisher"))
        cit.year = int(imprint.group("year"))
        cit.pages = normalize_pages(imprint.group("pages"))
    else:
        cit.year = year_of(rest)
    return cit


# --- APA -------------------------------------------------------------------------------

_APA = re.compile(
    r"^(?P<authors>[^;()]+?)\s*\((?P<year>1[5-9]\d{2}|20\d{2})[a-z]?(?:,[^)]*)?\)\.?\s*"
    r"(?P<title>.+?[.?!])(?:\s+(?P<rest>.+))?$"
)
_APA_SERIAL = re.compile(
    rf"^(?P<journal>[^,]+?),\s*(?P<volume>\d+)\s*(?:\((?P<issue>[^)]+)\))?"
    rf"(?:,\s*(?P<pages>{_PAGES}))?\s*\.?\s*$"
)
_APA_NAME = re.compile(r"[^,&]+?,\s*(?:[A-Z][a-z]?\.\s*-?\s*)+")
_EDITION = re.compile(r"\s*\((?P<ed>[^)]*\bed(?:ition)?\.?)\)\s*")
_APA_IN = re.compile(
    rf"^In\s+(?:(?P<editors>.+?)\s*\((?:Eds?|编)\.?\)\s*,\s*)?(?P<book>.+?)"
    rf"(?:\s*\((?:[^)]*?pp?\.\s*(?P<pages>{_PAGES}))[^)]*\))?\.\s*(?P<publisher>[^.]+)?\.?$"
)


def _apa_authors(text: str) -> list[str]:
    text = text.strip()
    found = (clean(m.group(0).replace("&", "")) for m in _APA_NAME.finditer(text))
    names = [n for n in found if n]
    return names or split_authors(text)


def _parse_apa(text: str) -> Citation | None:
    match = _APA.match(text)
    if match is None:
        return None
    cit = Citation(authors=_apa_authors(match.group("authors")), year=int(match.group("year")))
    title = match.group("title")
    rest = (match.group("rest") or "").strip()
    edition = _EDITION.search(title)
    if edition:
        cit.edition = clean(edition.group("ed"))
        title = _EDITION.sub(" ", title)
    chapter = _APA_IN.match(rest)
    serial = _APA_SERIAL.match(rest)
    if chapter:
        cit.genre, cit.article_title = Genre.CHAPTER, clean(title)
        cit.title = clean(chapter.group("book"))
        cit.pages = normalize_pages(chapter.group("pages"))
        cit.publisher = clean(chapter.group("publisher"))
    elif serial:
        cit.genre, cit.article_title = Genre.ARTICLE, clean(title)
        cit.journal = clean(serial.group("journal"))
        cit.volume, cit.issue = serial.group("volume"), clean(serial.group("issue"))
        cit.pages = normalize_pages(serial.group("pages"))
    else:
        cit.genre, cit.title = Genre.BOOK, clean(title)
        cit.publisher = clean(rest)
    return cit


# --- MLA -------------------------------------------------------------------------------

_MLA_QUOTED = re.compile(
    r"^(?P<authors>[^\"“]*?)\.?\s*[\"“](?P<title>[^\"”]+?)[.,?!]?[\"”]\s*(?P<rest>.*)$"
)
_MLA_VOL = re.compile(r"\bvol\.\s*(?P<v>[\w-]+)", re.IGNORECASE)
_MLA_NO = re.compile(r"\bno\.\s*(?P<n>[\w-]+)", re.IGNORECASE)
_MLA_PP = re.compile(rf"\bpp?\.\s*(?P<p>{_PAGES})", re.IGNORECASE)


def _parse_mla(text: str) -> Citation | None:
    match = _MLA_QUOTED.match(text)
    if match is None:
        return None
    rest = match.group("rest").strip()
    container = clean(rest.split(",")[0]) if rest else None
    cit = Citation(
        authors=_mla_authors(match.group("authors")), article_title=clean(match.group("title"))
    )
    vol, no, pp = _MLA_VOL.search(rest), _MLA_NO.search(rest), _MLA_PP.search(rest)
    cit.year = year_of(rest)
    cit.pages = normalize_pages(pp.group("p")) if pp else None
    if re.search(r"\bedited by\b", rest, re.IGNORECASE) and not vol:
        cit.genre, cit.title = Genre.CHAPTER, container
    else:
        cit.genre, cit.journal = Genre.ARTICLE, container
        cit.volume = vol.group("v") if vol else None
        cit.issue = no.group("n") if no else None
    return cit


def _mla_authors(text: str) -> list[str]:
    # MLA: "Last, First, and First Last." -- the first author is inverted.
    text = _ET_AL.sub("", text.strip().rstrip("."))
    if not text:
        return []
    first, _, others = text.partition(", and ")
    if others:
        return [a for a in (clean(first), clean(others)) if a]
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 2:
        return [text]  # one inverted name
    return split_authors(text)


# --- Vancouver -------------------------------------------------------------------------

_VANCOUVER_TAIL = re.compile(
    rf"(?P<journal_part>.*?)\s*(?P<year>\d{{4}})(?:\s+[A-Z][a-z]{{2}}(?:\s+\d{{1,2}})?)?\s*;\s*"
    rf"(?P<volume>[\w]+)?\s*(?:\((?P<issue>[^)]+)\))?\s*:\s*(?P<pages>{_PAGES})\s*\.?\s*$"
)


def _parse_vancouver(text: str) -> Citation | None:
    match = _VANCOUVER_TAIL.match(text)
    if match is None:
        return None
    head = match.group("journal_part").strip()
    sentences = [s for s in re.split(r"(?<=[.?!])\s+", head) if s.strip()]
    if len(sentences) < 3:
        return None
    cit = Citation(
        genre=Genre.ARTICLE,
        authors=split_authors(sentences[0]),
        article_title=clean(sentences[1]),
        journal=clean(" ".join(sentences[2:])),
        year=int(match.group("year")),
        volume=match.group("volume"),
        issue=clean(match.group("issue")),
        pages=normalize_pages(match.group("pages")),
    )
    return cit


# --- "Author. Title. Publisher, Year." and bare titles ------------------------------------

_PLAIN_BOOK = re.compile(
    r"^(?P<authors>[^.]{1,200})\.\s+(?P<title>[^.]+)\.\s+(?P<imprint>[^.]*\b\d{4})\.?$"
)


def _parse_plain_book(text: str) -> Citation | None:
    match = _PLAIN_BOOK.match(text)
    if match is None:
        return None
    imprint = match.group("imprint")
    publisher = clean(re.sub(r",?\s*\d{4}$", "", imprint))
    place = None
    if publisher and ":" in publisher:
        before, _, after = publisher.partition(":")
        place, publisher = clean(before), clean(after)
    return Citation(
        genre=Genre.BOOK,
        authors=_mla_authors(match.group("authors")),
        title=clean(match.group("title")),
        publisher=clean(publisher),
        place=place,
        year=year_of(imprint),
    )


def _parse_title(text: str) -> Citation | None:
    if len(text) > 300:
        return None
    quoted = re.fullmatch(r"\s*[《「“\"](.+?)[》」”\"]\s*", text)
    title = clean(quoted.group(1) if quoted else text)
    return Citation(title=title) if title else None


_STYLES: tuple[tuple[str, Callable[[str], Citation | None]], ...] = (
    ("gbt7714", _parse_gbt),
    ("mla", _parse_mla),
    ("vancouver", _parse_vancouver),
    ("apa", _parse_apa),
    ("plain", _parse_plain_book),
)


def parse_citation(text: str) -> ParseResult:
    """Read a pasted reference (any of the styles above, or a title alone)."""
    text = _normalise_text(text)
    found = find_identifiers(text)
    rest = _REF_NUMBER.sub("", found.remove_from(text))
    rest = _URL.sub(" ", rest)
    rest = _LEFTOVER_LABELS.sub("", " ".join(rest.split())).strip()
    # Taking identifiers out leaves runs of separators behind ("1320-3. . .").
    rest = _SEPARATOR_RUN.sub(". ", rest).strip()
    ids = Citation(
        isbn=found.isbns[0] if found.isbns else None,
        issn=found.issn,
        doi=found.doi,
        pmid=found.pmid,
    )
    if not clean(rest):
        kind = next((k for k in ("doi", "pmid", "isbn", "issn") if getattr(ids, k)), "empty")
        if kind == "isbn":
            ids.genre = Genre.BOOK
        problems = found.problems or ([Problem("text_empty", "title")] if kind == "empty" else [])
        return ParseResult(ids, kind=kind, problems=problems)
    for style, parser in _STYLES:
        parsed = parser(rest)
        if parsed is not None and (parsed.title or parsed.article_title):
            citation = ids.merged_with(parsed)
            if citation.isbn and citation.genre is Genre.UNKNOWN:
                citation.genre = Genre.BOOK
            return ParseResult(citation, kind="citation", style=style, problems=found.problems)
    titled = _parse_title(rest)
    citation = ids.merged_with(titled) if titled else ids
    kind = "title" if titled else "citation"
    return ParseResult(
        citation, kind=kind, style="plain" if titled else None, problems=found.problems
    )
