"""Identifier normalisation and what the query parser makes of what patrons type."""

from __future__ import annotations

import pytest

from kb.catalog.identifiers import isbn10, isbns_in, normalize_isbn, normalize_issn
from kb.catalog.models import RecordFormat
from kb.catalog.search.analysis import index_tokens, query_units
from kb.catalog.search.expression import MatchClause, fts5_expression, tsquery_expression
from kb.catalog.search.query import parse_query


@pytest.mark.parametrize(
    "written",
    ["0-262-03561-8", "0262035618", "978-0-262-03561-3", "9780262035613", "978 0 262 03561 3",
     "ISBN 0262035618 (hardcover)", "０２６２０３５６１８"],
)  # fmt: skip
def test_every_spelling_of_an_isbn_normalises_to_the_same_isbn13(written):
    assert normalize_isbn(written) == "9780262035613"


def test_isbn10_with_check_character_x():
    assert normalize_isbn("0-8044-2957-x") == "9780804429573"
    assert isbn10("9780804429573") == "080442957X"


@pytest.mark.parametrize("bad", ["0262035619", "9780262035614", "123", "", "phone 010-62751230"])
def test_invalid_isbns_are_refused(bad):
    assert normalize_isbn(bad) is None


def test_issn_is_checked_and_formatted():
    assert normalize_issn("00280836") == "0028-0836"
    assert normalize_issn("0028-0837") is None


def test_isbns_in_text_keep_order_and_drop_repeats():
    assert isbns_in("ISBN 978-0-262-03561-3 and 0262035618 and 0-387-31073-8") == [
        "9780262035613",
        "9780387310732",
    ]


@pytest.mark.parametrize(
    ("text", "title", "author", "keywords", "isbns"),
    [
        ("有没有《三体》", "三体", None, "", ()),
        ("《活着》还有没有可以借的", "活着", None, "", ()),
        ("books about machine learning by Bishop", None, "Bishop", "machine learning", ()),
        ("作者 余华 活着", None, "余华", "活着", ()),
        ("刘慈欣著 科幻", None, "刘慈欣", "科幻", ()),
        ('is "Dune" on the shelf', "Dune", None, "", ()),
        ("does the library have 0-262-03561-8", None, None, "", ("9780262035613",)),
        ("library science", None, None, "library science", ()),
        ("有没有", None, None, "有没有", ()),
    ],
)
def test_query_parts(text, title, author, keywords, isbns):
    parsed = parse_query(text)
    assert (parsed.title, parsed.author, parsed.keywords, parsed.isbns) == (
        title, author, keywords, isbns,
    )  # fmt: skip


def test_format_words_become_a_format():
    parsed = parse_query("三体有没有 ebook")
    assert parsed.keywords == "三体"
    assert parsed.formats == (RecordFormat.EBOOK,)
    assert parse_query("深度学习 电子书").formats == (RecordFormat.EBOOK,)


def test_chinese_is_indexed_as_bigrams_and_queried_as_a_phrase():
    assert index_tokens("三体全集") == ["三体", "体全", "全集", "集"]
    assert query_units("图书馆") == [["图书", "书馆"]]
    # English is case-folded and stemmed the same way on both sides.
    assert index_tokens("Libraries") == query_units("library")[0]


@pytest.mark.parametrize(
    "hostile",
    ['" OR 1=1; --', "NEAR(a b) *", "title:x) OR (y", "-foo AND NOT bar", "'; DROP TABLE records;",
     "a\\\"b", "col : {x}", "^start", "%_%"],
)  # fmt: skip
def test_hostile_text_leaves_only_quoted_word_tokens(hostile):
    clause = MatchClause.of(parse_query(hostile).keywords)
    if clause is None:
        return
    for unit in clause.units:
        for token in unit:
            assert token.isalnum(), token
    fts = fts5_expression([clause])
    assert fts.count('"') % 2 == 0
    tsq = tsquery_expression([clause])
    assert tsq.count("'") % 2 == 0
