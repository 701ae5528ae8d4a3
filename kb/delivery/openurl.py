"""OpenURL links from link resolvers and databases -> a citation.

Reads OpenURL 1.0 KEV (ANSI/NISO Z39.88-2004: ``rft.*`` keys, ``rft_val_fmt``
journal / book / dissertation, repeated ``rft_id`` with ``info:doi/``,
``info:pmid/``, ``urn:ISBN:``) and OpenURL 0.1 (``genre``, ``atitle``,
``title``, ``issn``, ``spage``, ``id=doi:...``); hybrids prefer the 1.0 value.

Real links are messy, and each quirk below was seen in resolver logs
(tests/fixtures/openurl): scheme-less links and ``??``; ``&amp;`` from HTML;
literal spaces; an unescaped ``&`` inside a value ("Journal of the Gilded Age &
Progressive Era"); ``\\uXXXX`` escapes written by a JSON logger; a link wrapped
in a proxy's ``url=``; ISSN fields holding database codes ("edsble"); unfilled
``{{...}}`` templates. Values are percent-decoded as UTF-8 (or the declared
``ctx_enc``), falling back to GB18030, which Chinese databases still send.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote_to_bytes, urlencode, urlsplit

from kb.delivery.citations import Citation, ParseResult, clean, normalize_pages, year_of
from kb.delivery.identifiers import normalize_doi, normalize_isbn, normalize_issn, normalize_pmid
from kb.delivery.states import Genre
from kb.delivery.texts import Problem

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_INLINE_TAG = re.compile(r"</?(?:em|i|b|strong|sup|sub|span)\b[^>]*>", re.IGNORECASE)
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
# Keys only an OpenURL (1.0 or 0.1) carries; one of them makes a query an OpenURL.
_OPENURL_KEYS = re.compile(
    r"url_ver|ctx_ver|ctx_enc|rft[._].+|rfr_id|sid|genre|atitle|jtitle|btitle|aulast|spage|issn|isbn",
    re.IGNORECASE,
)
_ARTICLE_GENRES = {"article", "proceeding", "conference", "preprint", "news", "contribution"}
_JOURNAL_GENRES = {"journal", "issue", "serial"}
_THESIS_GENRES = {"dissertation", "thesis", "dissertations & theses"}


@dataclass
class OpenUrlResult(ParseResult):
    version: str = "0.1"
    referrer: str | None = None
    rejected: bool = False  # the link names no item at all


def looks_like_openurl(text: str) -> bool:
    """Whether pasted text is an OpenURL link or query (rather than a citation)."""
    text = text.strip()
    if not text or "\n" in text:
        return False
    for key, value in _split_pairs(_query_of(text)):
        if _OPENURL_KEYS.fullmatch(key):
            return True
        if key == "url" and looks_like_openurl(_decode(value, "utf-8")):
            return True
    return False


def _query_of(text: str) -> str:
    text = text.strip().replace("&amp;", "&")
    if "?" in text:
        return text.split("?", 1)[1].lstrip("?")
    # A bare query string ("rft.atitle=...&...") or a link with no query at all.
    first = text.split("&", 1)[0]
    return text if "=" in first and "/" not in first.split("=", 1)[0] else ""


def _split_pairs(query: str) -> list[tuple[str, str]]:
    """Split on ``&``, re-joining pieces that are not ``key=...`` (an unescaped & in a value)."""
    pairs: list[list[str]] = []
    for piece in query.split("&"):
        key, sep, value = piece.partition("=")
        key = key.strip().lstrip("?")
        if sep and _KEY.fullmatch(key):
            pairs.append([key, value])
        elif pairs and piece:
            pairs[-1][1] += "&" + piece
    return [(k, v) for k, v in pairs]


def _decode(value: str, encoding: str) -> str:
    raw = unquote_to_bytes(value.replace("+", " "))
    for candidate in (encoding, "utf-8", "gb18030"):
        try:
            text = raw.decode(candidate)
            break
        except (UnicodeDecodeError, LookupError):
            continue
    else:
        text = raw.decode("latin-1")
    text = _INLINE_TAG.sub("", text)
    if "\\u" in text:
        text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _declared_encoding(pairs: list[tuple[str, str]]) -> str:
    for key, value in pairs:
        if key == "ctx_enc" and "8859" in value:
            return "latin-1"
    return "utf-8"


class _Fields:
    """The link's values by key; 1.0 ``rft.x`` wins over 0.1 ``x``."""

    def __init__(self, pairs: list[tuple[str, str]], problems: list[Problem]) -> None:
        self.v10: dict[str, list[str]] = {}
        self.v01: dict[str, list[str]] = {}
        self.meta: dict[str, list[str]] = {}
        for key, value in pairs:
            # A trailing "=" is what is left of a broken "&...=" split in the source link.
            value = " ".join(value.split()).rstrip("=").strip()
            if "{{" in value:
                problems.append(Problem("template_value", key, value))
                continue
            if not value:
                continue
            lower = key.lower()
            if lower.startswith("rft."):
                self.v10.setdefault(lower[4:], []).append(value)
            elif lower.startswith(("rft_", "rfr_", "ctx_", "url_", "svc", "rfe_", "req_")):
                self.meta.setdefault(lower, []).append(value)
            else:
                self.v01.setdefault(lower, []).append(value)

    def get(self, *names: str) -> str | None:
        for name in names:
            for source in (self.v10, self.v01):
                for value in source.get(name, []):
                    if clean(value):
                        return value
        return None

    def all(self, name: str) -> list[str]:
        return self.v10.get(name, []) + self.v01.get(name, [])

    @property
    def is_v10(self) -> bool:
        return bool(self.v10) or any(k in self.meta for k in ("url_ver", "ctx_ver", "rft_val_fmt"))


def _identifiers(f: _Fields, cit: Citation, problems: list[Problem]) -> None:
    ids = f.meta.get("rft_id", []) + f.all("id") + f.all("doi") + f.all("pmid")
    for value in ids:
        lower = value.lower().strip()
        if "doi" in lower or lower.startswith("10."):
            cit.doi = cit.doi or normalize_doi(value)
        elif "pmid" in lower or (value.strip().isdigit() and value in f.all("pmid")):
            pmid, problem = normalize_pmid(lower.replace("info:pmid/", "").replace("pmid:", ""))
            cit.pmid = cit.pmid or pmid
            if problem and lower not in ("pmid:", "info:pmid/"):
                problems.append(problem)
        elif lower.startswith("urn:isbn:"):
            isbn, _ = normalize_isbn(value.split(":", 2)[2])
            cit.isbn = cit.isbn or isbn
    isbn_values = [v for name in ("isbn", "eisbn") for v in f.all(name)]
    candidates = [c for v in isbn_values for c in re.split(r"[\s,;]+", v) if c.strip()]
    bad: list[Problem] = []
    for candidate in candidates:
        isbn, problem = normalize_isbn(candidate)
        if isbn:
            cit.isbn = cit.isbn or isbn
        elif problem:
            bad.append(problem)
    if cit.isbn is None:
        problems.extend(bad)
    for name in ("issn", "eissn"):
        given = f.get(name)
        if given and cit.issn is None:
            cit.issn, problem = normalize_issn(given, name)
            if problem:
                problems.append(problem)


def _genre(f: _Fields) -> Genre:
    fmt = (f.meta.get("rft_val_fmt") or [""])[0].rsplit(":", 1)[-1].lower()
    genre = (f.get("genre") or "").lower().strip()
    if genre == "bookitem" or (genre == "book" and f.get("atitle")):
        return Genre.CHAPTER
    if genre in _THESIS_GENRES or fmt == "dissertation":
        return Genre.THESIS
    if genre in _ARTICLE_GENRES or (fmt == "journal" and f.get("atitle")):
        return Genre.ARTICLE
    if genre in _JOURNAL_GENRES:
        return Genre.ARTICLE if f.get("atitle") else Genre.UNKNOWN
    if genre == "book" or fmt == "book":
        return Genre.BOOK
    return Genre.UNKNOWN


def _authors(f: _Fields) -> list[str]:
    listed = [a for v in f.all("au") for a in (clean(p) for p in v.split(";")) if a]
    if listed:
        return listed
    last, first = clean(f.get("aulast")), clean(f.get("aufirst", "auinit", "auinit1"))
    if last:
        return [f"{last}, {first}" if first else last]
    corp = clean(f.get("aucorp"))
    return [corp] if corp else []


def _titles(f: _Fields, cit: Citation, problems: list[Problem]) -> None:
    atitle, jtitle = clean(f.get("atitle")), clean(f.get("jtitle"))
    btitle, title = clean(f.get("btitle")), clean((f.get("title") or "").rstrip("="))
    stitle = clean(f.get("stitle"))
    serial_hints = bool(atitle or jtitle or cit.issn or f.get("volume") or f.get("issue"))
    if cit.genre is Genre.ARTICLE or (cit.genre is Genre.UNKNOWN and serial_hints):
        cit.article_title = atitle
        cit.journal = jtitle or title or stitle
        if cit.genre is Genre.UNKNOWN and not atitle and cit.journal and not (cit.doi or cit.pmid):
            problems.append(Problem("openurl_whole_journal", "journal", cit.journal))
    elif cit.genre is Genre.CHAPTER:
        cit.article_title, cit.title = atitle, btitle or title
    else:
        cit.title = btitle or title or stitle
        cit.article_title = atitle


def parse_openurl(link: str) -> OpenUrlResult:
    """Map an OpenURL (full link, scheme-less link or bare query string) to a citation."""
    problems: list[Problem] = []
    raw_pairs = _split_pairs(_query_of(link))
    encoding = _declared_encoding(raw_pairs)
    pairs = [(key, _decode(value, encoding)) for key, value in raw_pairs]
    # A link wrapped by a proxy (ezproxy "login?url=...") carries the real one inside.
    for key, value in list(pairs):
        if key == "url" and "?" in value and urlsplit(value).netloc:
            inner = _split_pairs(_query_of(value))
            pairs = [(k, _decode(v, encoding)) for k, v in inner] + [
                p for p in pairs if p[0] != "url"
            ]
    if not pairs:
        return OpenUrlResult(
            Citation(),
            kind="openurl",
            problems=[Problem("openurl_no_query", "link")],
            rejected=True,
        )
    f = _Fields(pairs, problems)
    cit = Citation()
    _identifiers(f, cit, problems)
    cit.genre = _genre(f)
    _titles(f, cit, problems)
    cit.authors = _authors(f)
    date = f.get("date")
    # OpenURL dates are ISO 8601 (2013-03) but databases also send 20170101.
    leading = re.match(r"\s*(\d{4})(?:\d{4})?(?!\d)", date or "")
    cit.year = int(leading.group(1)) if leading else year_of(date)
    if date and cit.year is None:
        problems.append(Problem("date_invalid", "year", date))
    cit.volume, cit.issue = clean(f.get("volume")), clean(f.get("issue"))
    spage, epage = clean(f.get("spage")), clean(f.get("epage"))
    cit.pages = normalize_pages(f"{spage}-{epage}" if spage and epage else f.get("pages") or spage)
    cit.publisher = clean(f.get("pub", "publisher", "inst"))
    cit.place, cit.edition = clean(f.get("place")), clean(f.get("edition"))
    referrer = next(iter(f.meta.get("rfr_id", []) + f.all("sid")), None)
    names_item = any(
        (cit.title, cit.article_title, cit.journal, cit.isbn, cit.issn, cit.doi, cit.pmid)
    )
    if not names_item:
        problems.append(Problem("openurl_no_item", "link"))
    return OpenUrlResult(
        cit,
        kind="openurl",
        style="openurl-1.0" if f.is_v10 else "openurl-0.1",
        problems=problems,
        version="1.0" if f.is_v10 else "0.1",
        referrer=referrer,
        rejected=not names_item,
    )


_GENRE_KEV = {
    Genre.ARTICLE: ("journal", "article"),
    Genre.CHAPTER: ("book", "bookitem"),
    Genre.BOOK: ("book", "book"),
    Genre.THESIS: ("dissertation", "dissertation"),
}


def build_openurl(citation: Citation) -> str:
    """An OpenURL 1.0 KEV query string naming ``citation`` (what a link resolver takes)."""
    pairs: list[tuple[str, str]] = [("url_ver", "Z39.88-2004")]
    if citation.genre in _GENRE_KEV:  # an unknown genre is left for the resolver to guess
        fmt, genre = _GENRE_KEV[citation.genre]
        pairs += [("rft_val_fmt", f"info:ofi/fmt:kev:mtx:{fmt}"), ("rft.genre", genre)]
    book_title = "rft.btitle" if citation.genre is not Genre.ARTICLE else "rft.title"
    for key, value in (
        ("rft.atitle", citation.article_title),
        ("rft.jtitle", citation.journal),
        (book_title, citation.title),
        ("rft.date", str(citation.year) if citation.year else None),
        ("rft.volume", citation.volume),
        ("rft.issue", citation.issue),
        ("rft.pages", citation.pages),
        ("rft.pub", citation.publisher),
        ("rft.place", citation.place),
        ("rft.edition", citation.edition),
        ("rft.isbn", citation.isbn),
        ("rft.issn", citation.issn),
    ):
        if value:
            pairs.append((key, value))
    pairs += [("rft.au", author) for author in citation.authors]
    pairs += [("rft_id", f"info:doi/{citation.doi}")] if citation.doi else []
    pairs += [("rft_id", f"info:pmid/{citation.pmid}")] if citation.pmid else []
    return urlencode(pairs, quote_via=quote)
