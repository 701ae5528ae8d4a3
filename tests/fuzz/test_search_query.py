"""The catalog's query parser (kb/catalog/search/query.py), the match expressions built
from it and ISBN/ISSN normalisation (kb/catalog/identifiers.py): any text parses, the
parse is stable, and what reaches FTS5 / tsquery is only quoted letters and digits."""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from kb.catalog.identifiers import isbn10, isbns_in, issns_in, normalize_isbn, normalize_issn
from kb.catalog.search.expression import (
    AUTHOR,
    TITLE,
    MatchClause,
    fts5_expression,
    tsquery_expression,
)
from kb.catalog.search.query import parse_query
from tests.fuzz.mutations import huge_text, mutated_text, nasty_text

REAL = [
    "有没有《三体》这本书",
    "刘慈欣著的科幻小说",
    "作者：鲁迅 呐喊",
    'do you have "Pattern Recognition and Machine Learning" by Christopher M. Bishop',
    "ISBN 978-7-5366-9293-0",
    "isbn: 0-306-40615-2 ebook",
    "journals about library science ISSN 0024-2519",
    "图书馆学 期刊 电子版",
    "books about machine learning, please",
    "「深度学习」 thesis",
]
queries = st.one_of(nasty_text, mutated_text(REAL), huge_text)


@given(queries)
@example("《》")
@example('""“”')
@example("by ,")
@example("作者")
def test_any_query_parses_stably(text: str) -> None:
    parsed = parse_query(text)
    assert parse_query(text) == parsed
    assert parsed.language in ("zh", "en")
    for isbn in parsed.isbns:
        assert len(isbn) == 13 and isbn.isdigit()
    # Searching what was parsed again finds the same thing: the parse is a fixed point
    # for the keywords (titles and authors are taken out once).
    if parsed.keywords and not parsed.only_filler:
        assert isinstance(parse_query(parsed.keywords).keywords, str)


_FTS_TOKEN = re.compile(r'"[^"]*"')


@given(queries)
def test_match_expressions_carry_only_quoted_tokens(text: str) -> None:
    parsed = parse_query(text)
    clauses = [
        c
        for c in (
            MatchClause.of(parsed.title, TITLE),
            MatchClause.of(parsed.author, AUTHOR),
            MatchClause.of(parsed.keywords),
        )
        if c is not None
    ]
    fts = fts5_expression(clauses)
    # Outside the quoted phrases only the expression's own syntax is left.
    outside = _FTS_TOKEN.sub("", fts)
    assert re.fullmatch(r"[\s(){}:*A-Za-z]*", outside), fts
    assert re.fullmatch(r"(?:AND|title|author|\s|[(){}:*])*", outside), fts
    assert isinstance(tsquery_expression(clauses), str)


@given(st.one_of(nasty_text, st.text(alphabet="0123456789Xx- ", max_size=30)))
@example("978-0-306-40615-7")
@example("097802")
def test_isbn_and_issn_normalisation_answers_a_valid_form_or_none(value: str) -> None:
    isbn = normalize_isbn(value)
    assert isbn is None or (len(isbn) == 13 and isbn.isdigit() and normalize_isbn(isbn) == isbn)
    if isbn and isbn.startswith("978"):
        assert normalize_isbn(isbn10(isbn) or "") == isbn
    issn = normalize_issn(value)
    assert issn is None or (
        re.fullmatch(r"\d{4}-\d{3}[\dX]", issn) and normalize_issn(issn) == issn
    )
    assert all(normalize_isbn(i) == i for i in isbns_in(value))
    assert all(normalize_issn(i) == i for i in issns_in(value))
