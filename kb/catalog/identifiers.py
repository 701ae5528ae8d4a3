"""Bibliographic identifiers: ISBN and ISSN normalised so every spelling finds one record.

ISBN-10 and ISBN-13 of the same book normalise to the same ISBN-13; hyphens, spaces,
a lower-case check character "x" and qualifiers such as "(pbk.)" are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from stdnum import ean
from stdnum import isbn as stdnum_isbn
from stdnum import issn as stdnum_issn
from stdnum.exceptions import ValidationError

# Digits with optional separators, as typed by patrons or found in MARC 020/022 $a.
_ISBN_CANDIDATE = re.compile(r"(?<![\dXx])(?:97[89][-\s]?)?(?:\d[-\s]?){9}[\dXx](?![\dXx])")
_SEPARATORS = re.compile(r"[-\s]")
_ISSN_CANDIDATE = re.compile(r"(?<![\dXx-])\d{4}-?\d{3}[\dXx](?![\dXx])")


def normalize_isbn(value: str) -> str | None:
    """The ISBN-13 (digits only) of an ISBN-10 or ISBN-13, or None if it is not valid."""
    match = _ISBN_CANDIDATE.search(value or "")
    if not match:
        return None
    compact = _SEPARATORS.sub("", match.group(0)).upper()
    if len(compact) == 13 and compact.isdigit():
        # The common case, checked without stdnum's general-purpose cleaning (imports
        # normalise millions of these).
        valid = compact[:3] in ("978", "979") and ean.calc_check_digit(compact[:12]) == compact[12]
        return compact if valid else None
    try:
        return stdnum_isbn.to_isbn13(stdnum_isbn.validate(compact))
    except ValidationError:
        return None


def normalize_issn(value: str) -> str | None:
    """An ISSN as NNNN-NNNC (upper-case X), or None if it is not valid."""
    match = _ISSN_CANDIDATE.search(value or "")
    if not match:
        return None
    try:
        return stdnum_issn.format(stdnum_issn.validate(match.group(0)))
    except ValidationError:
        return None


def isbns_in(text: str) -> list[str]:
    """Every valid ISBN (as ISBN-13) written in free text, in order, without repeats."""
    return _all_valid(_ISBN_CANDIDATE, normalize_isbn, text)


def issns_in(text: str) -> list[str]:
    return _all_valid(_ISSN_CANDIDATE, normalize_issn, text)


def _all_valid(
    pattern: re.Pattern[str], normalize: Callable[[str], str | None], text: str
) -> list[str]:
    found = (normalize(m.group(0)) for m in pattern.finditer(text or ""))
    return list(dict.fromkeys(value for value in found if value))


def isbn10(isbn13: str) -> str | None:
    """The ISBN-10 form of a 978 ISBN-13 (979 numbers have none)."""
    try:
        return stdnum_isbn.to_isbn10(isbn13)
    except ValidationError:
        return None
