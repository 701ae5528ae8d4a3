"""DOI, ISBN, ISSN and PMID: find them in pasted text and normalise them.

Normal forms match :class:`kb.catalog.models.RecordIdentifier`: ISBN-13 digits,
ISSN ``NNNN-NNNC``, DOI lowercase (DOIs are case-insensitive), PMID digits.
Checksums are checked with python-stdnum; a value that fails is reported as a
:class:`~kb.delivery.texts.Problem`, never silently "corrected".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from stdnum import isbn as stdnum_isbn
from stdnum import issn as stdnum_issn
from stdnum.exceptions import InvalidChecksum, InvalidLength, ValidationError

from kb.delivery.texts import Problem

# Crossref's pattern, widened to what real DOIs carry (<, >, [, ] in old SICI-style DOIs).
_DOI = re.compile(r"10\.\d{4,9}/[^\s\"'{}|\\^`\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")
_DOI_TRAILING = ".,;:!?'\"。，；：》」』"
_DOI_LEAD = re.compile(
    r"(?:https?://)?(?:dx\.)?doi\.org/|\bdoi\s*[:：]\s*|\binfo:doi/|\burn:doi:", re.IGNORECASE
)
_PMID_LABELLED = re.compile(
    r"(?:\bPMID\s*[:：]?\s*|\binfo:pmid/|\bpmid:|pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/)"
    r"(\d{1,9})\b",
    re.IGNORECASE,
)
_ISBN_LABELLED = re.compile(
    r"\bISBN(?:-1[03])?\s*[:：]?\s*((?:97[89][\s-]?)?\d[\d\s-]{7,14}[\dXx])(?![\dXx])",
    re.IGNORECASE,
)
# An unlabelled ISBN: 10 or 13 digits, optionally grouped with hyphens (978-7-5366-9293-0).
_ISBN_BARE = re.compile(
    r"(?<![\w/.-])((?:97[89]-?)?\d{1,5}-\d{1,7}-\d{1,7}-[\dXx]|97[89]\d{10}|\d{9}[\dXx])(?![\w-])"
)
_ISSN_LABELLED = re.compile(r"\b[eE]?ISSN\s*[:：]?\s*(\d{4}-?\d{3}[\dXx])(?![\dXx])")


def _trim_doi(doi: str) -> str:
    doi = doi.rstrip(_DOI_TRAILING)
    # A closing bracket belongs to the DOI only if it opens one too: 10.1016/S0140-6736(20)30183-5
    for opener, closer in ("()", "[]", "<>"):
        while doi.endswith(closer) and doi.count(closer) > doi.count(opener):
            doi = doi[:-1].rstrip(_DOI_TRAILING)
    return doi


def normalize_doi(value: str) -> str | None:
    """A DOI from ``10.x/y``, ``doi:10.x/y``, ``https://doi.org/10.x%2Fy``, ...; None if none."""
    text = unquote(value.strip()) if "%" in value else value.strip()
    match = _DOI.search(text)
    return _trim_doi(match.group(0)).lower() if match else None


def check_isbn(value: str) -> str:
    """ISBN-10 or -13 (with any hyphens/spaces) -> ISBN-13 digits; ValidationError if invalid."""
    compact = stdnum_isbn.compact(value)
    stdnum_isbn.validate(compact)
    return stdnum_isbn.to_isbn13(compact)


def isbn_problem(value: str, error: ValidationError) -> Problem:
    if isinstance(error, InvalidLength):
        return Problem("isbn_length", "isbn", value)
    if isinstance(error, InvalidChecksum):
        return Problem("isbn_checksum", "isbn", value)
    return Problem("isbn_length", "isbn", value)


def normalize_isbn(value: str) -> tuple[str | None, Problem | None]:
    try:
        return check_isbn(value), None
    except ValidationError as error:
        return None, isbn_problem(value.strip(), error)


def normalize_issn(value: str, field_name: str = "issn") -> tuple[str | None, Problem | None]:
    try:
        return stdnum_issn.format(stdnum_issn.validate(value)), None
    except ValidationError:
        return None, Problem("issn_invalid", field_name, value.strip())


def normalize_pmid(value: str) -> tuple[str | None, Problem | None]:
    digits = value.strip()
    for prefix in ("info:pmid/", "pmid:", "PMID:", "PMID"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :].strip()
    # ASCII only: str.isdigit() is also true for "¹" and "①", which int() refuses.
    if digits.isascii() and digits.isdigit() and 0 < len(digits) <= 9 and int(digits) > 0:
        return str(int(digits)), None
    return None, Problem("pmid_invalid", "pmid", value.strip())


@dataclass
class FoundIdentifiers:
    """Identifiers found in a text, and the spans they (and their labels) took."""

    doi: str | None = None
    isbns: list[str] = field(default_factory=list)
    issn: str | None = None
    pmid: str | None = None
    problems: list[Problem] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)

    def remove_from(self, text: str) -> str:
        """``text`` without the identifiers, so what is left can be read as a citation."""
        out, last = [], 0
        for start, end in sorted(self.spans):
            if start >= last:
                out.append(text[last:start])
                last = end
        out.append(text[last:])
        return " ".join("".join(out).split())


def _label_start(text: str, start: int) -> int:
    """Extend a match back over its label ("doi:", "https://doi.org/", "ISBN ")."""
    head = text[:start]
    for match in _DOI_LEAD.finditer(head):
        if match.end() == start:
            return match.start()
    return start


def find_identifiers(text: str) -> FoundIdentifiers:
    found = FoundIdentifiers()
    for match in _DOI.finditer(text):
        doi = _trim_doi(match.group(0))
        if "%" in doi:
            doi = _trim_doi(unquote(doi))
        if found.doi is None:
            found.doi = doi.lower()
        found.spans.append((_label_start(text, match.start()), match.start() + len(match.group(0))))
    labelled_ids = (
        ("pmid", _PMID_LABELLED, normalize_pmid),
        ("issn", _ISSN_LABELLED, normalize_issn),
    )
    for attribute, pattern, normalise in labelled_ids:
        for match in pattern.finditer(text):
            value, problem = normalise(match.group(1))
            if value and getattr(found, attribute) is None:
                setattr(found, attribute, value)
            elif problem:
                found.problems.append(problem)
            found.spans.append(match.span())
    labelled = list(_ISBN_LABELLED.finditer(text))
    for match in labelled:
        isbn, problem = normalize_isbn(match.group(1))
        if isbn:
            if isbn not in found.isbns:
                found.isbns.append(isbn)
        elif problem:
            found.problems.append(problem)  # labelled as an ISBN, so a bad one is worth saying
        found.spans.append(match.span())
    taken = list(found.spans)
    for match in _ISBN_BARE.finditer(text):
        if any(s <= match.start() < e for s, e in taken):
            continue
        isbn, _ = normalize_isbn(match.group(1))
        if isbn:  # unlabelled digits are only an ISBN if the checksum agrees
            if isbn not in found.isbns:
                found.isbns.append(isbn)
            found.spans.append(match.span())
    return found
