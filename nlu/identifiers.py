"""Find and validate bibliographic identifiers in patron text.

Pure module (spaCy + python-stdnum, no Rasa): the Rasa component in
`nlu/components/identifiers.py` wraps it. A blank multi-language spaCy pipeline
tokenizes the text with rules that split digits and Latin letters off Chinese
characters ("有没有isbn9787536692930" -> "有没有", "isbn", "9787536692930") and keep
DOIs whole; a `Matcher` finds the token shapes of identifiers and their prefixes
("ISBN-13:", "书号", "PMID"); python-stdnum checks the check digits.

What is found, as entity name and normalised value:

- `isbn`: ISBN-10 or ISBN-13 with a valid check digit, as ISBN-13 digits.
- `issn`: ISSN with a valid check digit, as "NNNN-NNNC".
- `doi`: a DOI (bare, "doi:", doi.org or publisher link), lowercased.
- `ticket_id`: a document-delivery request number, as "DD-YYYY-NNNNNN".
- `pmid`: a PubMed id after "PMID", as digits.
- `invalid_identifier`: something typed as an ISBN or ISSN whose check digit (or
  length) is wrong, as "isbn:<as typed>" / "issn:<as typed>".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex
from stdnum import isbn as stdnum_isbn
from stdnum import issn as stdnum_issn
from stdnum.exceptions import ValidationError

from nlu.script import fold_width

ISBN = "isbn"
ISSN = "issn"
DOI = "doi"
TICKET_ID = "ticket_id"
PMID = "pmid"
INVALID_IDENTIFIER = "invalid_identifier"
IDENTIFIER_ENTITIES = frozenset({ISBN, ISSN, DOI, TICKET_ID, PMID, INVALID_IDENTIFIER})


@dataclass(frozen=True)
class Identifier:
    """One identifier found in a text; offsets index the original text."""

    entity: str
    value: str
    start: int  # the identifier itself ("9787536692930" in "ISBN:9787536692930")
    end: int
    span_start: int  # with its prefix ("ISBN:..."): what other entities must not overlap
    span_end: int


# Characters that make up Chinese runs for the tokenizer: ideographs and CJK
# punctuation ("。", "、", "《"). Full-width ASCII is folded to ASCII beforehand.
_CJK = (
    "\u3000-\u303f\u3100-\u312f\u31a0-\u31bf\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\U00020000-\U0002fa1f"
)
_HYPHENS = ["-", "\u2010", "\u2011", "\u2013"]
_HYPHEN_CLASS = "".join(_HYPHENS)
_SEPARATORS = [":", "-", "#", "="]

_TRAILING_PUNCT = ".,;:!?'\""
_CLOSERS = {")": "(", "]": "[", "}": "{", ">": "<"}

# A DOI token as typed, with its optional "doi:" / resolver prefix. Its suffix stops
# at whitespace and Chinese characters; trailing punctuation is judged separately.
_DOI_TOKEN = re.compile(
    rf"(?i)(?:doi:|(?:https?://)?(?:dx\.)?doi\.org/)?(10\.[0-9]{{4,9}}(?:/|%2F)[^\s{_CJK}]+)"
)
# A DOI inside a publisher's link: https://onlinelibrary.wiley.com/doi/full/10.1002/x
_DOI_IN_URL = re.compile(r"(?i)/doi/(?:abs/|full/|pdf/|epdf/|epub/)?(10\.[0-9]{4,9}/[^?#\s]+)")

_ISSN_SHAPE = re.compile(r"[0-9]{4}-[0-9]{3}[0-9X]")
_CJK_KEYWORD = re.compile(r"(?:国际标准)?(?:书号|刊号)(?:是|为)?$")


def find_identifiers(text: str) -> list[Identifier]:
    """All identifiers in `text`, in text order, none overlapping another."""
    folded = fold_width(text)
    doc = _pipeline()(folded)
    spans = _matcher()(doc, as_spans=True)

    prefixes = {span.end: span for span in spans if span.label_ in _PREFIX_KINDS}
    spaced_runs = [span for span in spans if span.label_ == "SPACED"]
    candidates: list[Identifier] = []
    for span in spans:
        if span.label_ == "DIGITS":
            found = _digit_run(text, span, prefixes.get(span.start), spaced_runs)
        elif span.label_ == "DOI":
            found = _doi(span)
        elif span.label_ == "TICKET":
            found = _ticket(span)
        else:
            continue
        if found is not None and _stands_alone(folded, found.span_start, found.span_end):
            candidates.append(found)
    return _without_overlaps(candidates)


# --- tokenizer and matcher ---------------------------------------------------------


def _is_doi_token(string: str) -> bool:
    """Keep a DOI whole in the tokenizer, without a sentence's closing punctuation."""
    if not _DOI_TOKEN.fullmatch(string):
        return False
    return not _ends_with_stray_punctuation(string)


def _ends_with_stray_punctuation(string: str) -> bool:
    last = string[-1]
    if last in _TRAILING_PUNCT:
        return True
    opener = _CLOSERS.get(last)
    # A closing bracket is the DOI's own only if the DOI opened it:
    # "10.1016/S0140-6736(20)30183-5" versus "(see 10.1000/xyz)".
    return opener is not None and string.count(opener) < string.count(last)


@lru_cache(maxsize=1)
def _pipeline() -> Language:
    nlp = spacy.blank("xx")
    defaults = nlp.Defaults
    prefixes = [*defaults.prefixes, rf"[{_CJK}]+"]
    suffixes = [*defaults.suffixes, rf"[{_CJK}]+", r"[.,;:!?]"]
    infixes = [
        *defaults.infixes,
        # Chinese next to anything else, with no space between: "有没有978" is
        # "有没有", "978"
        rf"(?<=[{_CJK}])(?=[^{_CJK}])",
        rf"(?<=[^{_CJK}])(?=[{_CJK}])",
        # prefixes glued to numbers: "isbn9787...", "pmid123", "dd2026000123"
        r"(?<=[A-Za-z])(?=[0-9])",
        # but not an ISBN's or ISSN's check digit X: "080442957X" stays whole
        r"(?<=[0-9])(?=[A-WYZa-wyz])",
        rf"(?<=[0-9A-Za-z])[{_HYPHEN_CLASS}](?=[0-9A-Za-z])",
        r"(?<=[A-Za-z0-9])[:=#](?=[0-9])",
        r"(?<=[0-9])[,;/](?=[0-9])",
    ]
    tokenizer = nlp.tokenizer
    tokenizer.prefix_search = compile_prefix_regex(prefixes).search
    tokenizer.suffix_search = compile_suffix_regex(suffixes).search
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    tokenizer.token_match = _is_doi_token
    return nlp


_PREFIX_KINDS = {"ISBN_PREFIX": ISBN, "ISSN_PREFIX": ISSN, "PMID_PREFIX": PMID}


def _glued(pattern: dict) -> dict:
    """The token pattern, for a token with no whitespace after it."""
    return {**pattern, "SPACY": False}


def _prefix_patterns(latin: list[str], cjk_keyword: str | None) -> list[list[dict]]:
    separator = {"ORTH": {"IN": _SEPARATORS}, "OP": "?"}
    patterns = [
        [{"LOWER": {"IN": latin}}, separator],
        # "ISBN-13:", "isbn13"
        [
            _glued({"LOWER": {"IN": latin}}),
            {"ORTH": {"IN": _HYPHENS}, "OP": "?", "SPACY": False},
            {"ORTH": {"IN": ["10", "13"]}},
            separator,
        ],
    ]
    if cjk_keyword:
        patterns.append([{"TEXT": {"REGEX": f"{cjk_keyword}$"}}, separator])
    return patterns


@lru_cache(maxsize=1)
def _matcher() -> Matcher:
    matcher = Matcher(_pipeline().vocab)
    group = {"TEXT": {"REGEX": r"^(?:[0-9]+[Xx]?|[Xx])$"}}
    hyphen = {"ORTH": {"IN": _HYPHENS}}

    matcher.add("ISBN_PREFIX", _prefix_patterns(["isbn"], "书号(?:是|为)?"))
    matcher.add("ISSN_PREFIX", _prefix_patterns(["issn", "eissn", "pissn"], "刊号(?:是|为)?"))
    matcher.add("PMID_PREFIX", _prefix_patterns(["pmid"], None))

    # 1 to 6 digit groups joined by hyphens, nothing between: 9787536692930,
    # 978-7-5366-9293-0, 0028-0836. LONGEST keeps only whole runs.
    hyphenated = [
        [*([_glued(group), _glued(hyphen)] * (groups - 1)), group] for groups in range(1, 7)
    ]
    matcher.add("DIGITS", hyphenated, greedy="LONGEST")
    # 2 to 6 groups with spaces between ("ISBN 978 7 5366 9293 0"): only taken after
    # a prefix, so every sub-run is kept for the prefix logic to choose from.
    spaced = [[*([{**group, "SPACY": True}] * (groups - 1)), group] for groups in range(2, 7)]
    matcher.add("SPACED", spaced)

    matcher.add("DOI", [[{"TEXT": {"REGEX": r"10\.[0-9]{4,9}(?:/|%2[Ff])"}}]])

    dd = _glued({"LOWER": "dd"})
    optional_hyphen = {"ORTH": {"IN": _HYPHENS}, "OP": "?", "SPACY": False}
    ticket = [
        [
            dd,
            optional_hyphen,
            _glued({"TEXT": {"REGEX": r"^[0-9]{4}$"}}),
            _glued(hyphen),
            {"TEXT": {"REGEX": r"^[0-9]{1,6}$"}},
        ],
        [dd, optional_hyphen, {"TEXT": {"REGEX": r"^[0-9]{10}$"}}],
    ]
    matcher.add("TICKET", ticket, greedy="LONGEST")
    return matcher


# --- candidates --------------------------------------------------------------------


def _prefix_start(prefix: Span) -> int:
    first: Token = prefix[0]
    keyword = _CJK_KEYWORD.search(first.text)
    return first.idx + keyword.start() if keyword else first.idx


def _identifier(entity: str, value: str, body: Span, prefix: Span | None = None) -> Identifier:
    return Identifier(
        entity=entity,
        value=value,
        start=body.start_char,
        end=body.end_char,
        span_start=_prefix_start(prefix) if prefix is not None else body.start_char,
        span_end=body.end_char,
    )


def _digit_run(
    text: str, run: Span, prefix: Span | None, spaced_runs: list[Span]
) -> Identifier | None:
    """An ISBN, ISSN or PMID made of `run`, or a wrongly typed ISBN / ISSN."""
    if prefix is None:
        return _bare_number(text, run)
    kind = _PREFIX_KINDS[prefix.label_]
    if kind == PMID:
        digits = _compact(run.text)
        return _identifier(PMID, digits, run, prefix) if digits.isdigit() else None
    # After a prefix the number may also be typed with spaces between its groups.
    options = [run, *sorted((s for s in spaced_runs if s.start == run.start), key=len)]
    typed_right = [s for s in options if len(_compact(s.text)) in _LENGTHS[kind]]
    for body in typed_right:
        value = _VALIDATORS[kind](_compact(body.text))
        if value is not None:
            return _identifier(kind, value, body, prefix)
    body = typed_right[0] if typed_right else run
    return _identifier(INVALID_IDENTIFIER, _as_typed(kind, text, body), body, prefix)


def _bare_number(text: str, run: Span) -> Identifier | None:
    """A number without "ISBN"/"ISSN" before it: only unmistakable shapes count."""
    body = run.text
    compact = _compact(body)
    if _ISSN_SHAPE.fullmatch(body.upper()):
        if _is_year_range(body):
            return None
        value = _valid_issn(compact)
        if value is not None:
            return _identifier(ISSN, value, run)
        return _identifier(INVALID_IDENTIFIER, _as_typed(ISSN, text, run), run)
    if len(compact) not in _LENGTHS[ISBN]:
        return None
    value = _valid_isbn(compact)
    if value is not None:
        return _identifier(ISBN, value, run)
    if _looks_like_isbn(body, compact):
        return _identifier(INVALID_IDENTIFIER, _as_typed(ISBN, text, run), run)
    return None


def _looks_like_isbn(body: str, compact: str) -> bool:
    # A bare 10-digit number may be anything (a phone, a student number); an
    # EAN-13 with a book prefix or a hyphenated ISBN shape is meant as an ISBN.
    hyphens = sum(body.count(h) for h in _HYPHENS)
    return (len(compact) == 13 and compact[:3] in ("978", "979")) or hyphens >= 3


def _is_year_range(body: str) -> bool:
    first, second = int(body[:4]), body[5:]
    return second.isdigit() and 1000 <= first <= int(second) <= 2100


def _compact(typed: str) -> str:
    return "".join(c for c in typed if c.isalnum()).upper()


def _as_typed(kind: str, text: str, body: Span) -> str:
    return f"{kind}:{text[body.start_char : body.end_char]}"


def _valid_isbn(compact: str) -> str | None:
    try:
        return stdnum_isbn.to_isbn13(stdnum_isbn.validate(compact))
    except ValidationError:
        return None


def _valid_issn(compact: str) -> str | None:
    try:
        return stdnum_issn.format(stdnum_issn.validate(compact))
    except ValidationError:
        return None


_LENGTHS = {ISBN: (10, 13), ISSN: (8,)}
_VALIDATORS = {ISBN: _valid_isbn, ISSN: _valid_issn}


def _doi(span: Span) -> Identifier | None:
    token = span[0]
    string = token.text
    found = _DOI_TOKEN.fullmatch(string) or _DOI_IN_URL.search(string)
    if found is None or _ends_with_stray_punctuation(found.group(1)):
        return None
    doi = unquote(found.group(1))  # a link may carry "10.1000%2F182"
    start = token.idx + found.start(1)
    end = token.idx + found.end(1)
    return Identifier(DOI, doi.lower(), start, end, token.idx, token.idx + len(string))


def _ticket(span: Span) -> Identifier:
    digits = "".join(t.text for t in span if t.text.isdigit())
    year, number = digits[:4], digits[4:]
    return _identifier(TICKET_ID, f"DD-{year}-{int(number):06d}", span)


# --- choosing among candidates -----------------------------------------------------


def _stands_alone(folded: str, start: int, end: int) -> bool:
    """Not a piece of a longer code: "1234-5678" in "1234-5678-9012" is no ISSN."""
    before = folded[start - 1] if start > 0 else " "
    after = folded[end] if end < len(folded) else " "
    after_next = folded[end + 1] if end + 1 < len(folded) else " "
    if _glues(before) or before in "./":
        return False
    # A full stop ends a sentence unless a word or number goes on right after it.
    return not (_glues(after) or after == "/" or (after == "." and after_next.isalnum()))


def _glues(char: str) -> bool:
    return (char.isascii() and char.isalnum()) or char in _HYPHENS or char == "_"


def _without_overlaps(candidates: Iterable[Identifier]) -> list[Identifier]:
    chosen: list[Identifier] = []
    longest_first = sorted(candidates, key=lambda c: (c.span_start - c.span_end, c.span_start))
    for candidate in longest_first:
        if not any(_overlap(candidate, other) for other in chosen):
            chosen.append(candidate)
    return sorted(chosen, key=lambda c: c.start)


def _overlap(a: Identifier, b: Identifier) -> bool:
    return a.span_start < b.span_end and b.span_start < a.span_end


def tokens(text: str) -> list[str]:
    """The identifier tokenizer's tokens (for diagnosing what the matcher saw)."""
    doc: Doc = _pipeline()(fold_width(text))
    return [token.text for token in doc]
