"""Pasted citation text (kb/delivery/citations.py) and the identifiers found in it
(kb/delivery/identifiers.py): never a crash, every problem explained in both
languages, nothing invented, and a parse that is stable."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from kb.delivery.citations import Citation, parse_citation
from kb.delivery.identifiers import (
    find_identifiers,
    normalize_doi,
    normalize_isbn,
    normalize_issn,
    normalize_pmid,
)
from tests.fuzz.mutations import huge_text, mutated_text, nasty_text

REAL = [
    "[1] 刘慈欣. 三体[M]. 重庆: 重庆出版社, 2008.",
    "[2] 王选. 汉字信息处理[J]. 中国科学, 1990, 20(3): 312-320.",
    "[3] 张三. 论文题名[D]. 北京: 北京大学, 2015.",
    "[4] 李四. 章节题名[M]//王五. 文集名. 上海: 上海人民出版社, 2001: 15-20.",
    "LeCun, Y., Bengio, Y., & Hinton, G. (2015). Deep learning. Nature, 521(7553), 436-444. "
    "https://doi.org/10.1038/nature14539",
    'Smith, John. "A Study of Things." Journal of Stuff, vol. 12, no. 3, 2019, pp. 45-67.',
    "Watson JD, Crick FH. Molecular structure of nucleic acids. Nature. 1953;171(4356):737-8. "
    "PMID: 13054692",
    "Bishop, C. M. (2006). Pattern recognition and machine learning. Springer.",
    "ISBN 978-7-5366-9293-0",
    "eISSN 1476-4687 doi:10.1016/S0140-6736(20)30183-5",
    "《红楼梦》",
]
texts = st.one_of(nasty_text, mutated_text(REAL), huge_text)


def assert_explained(problems) -> None:  # type: ignore[no-untyped-def]
    for problem in problems:
        zh, en = problem.text("zh"), problem.text("en")
        assert zh.strip() and en.strip() and zh != en


@given(texts)
@example("doi:10.1234/%")
@example("10.1234/x%E4%B8")
@example("ISBN 978-7-5366-9293-0 ISBN 0-306-40615-X")
@example("PMID: ١٢٣")
def test_any_text_is_read_without_a_crash_and_problems_are_explained(text: str) -> None:
    result = parse_citation(text)
    assert result.kind in {"doi", "isbn", "pmid", "issn", "citation", "title", "empty"}
    assert_explained(result.problems)
    if result.kind == "empty":
        assert result.problems  # "no citation was given", said in both languages
    assert isinstance(result.missing, list)
    assert isinstance(result.citation.label(), str)


@given(st.one_of(nasty_text, mutated_text(REAL)))
def test_identifiers_come_from_the_text_and_are_normal(text: str) -> None:
    found = find_identifiers(text)
    assert_explained(found.problems)
    for isbn in found.isbns:
        assert len(isbn) == 13 and isbn.isdigit()
    if found.doi:
        assert found.doi.startswith("10.") and found.doi == found.doi.lower()
    if found.pmid:
        assert found.pmid.isdigit()
    assert isinstance(found.remove_from(text), str)


@given(nasty_text)
@example("¹")  # was a ValueError: str.isdigit() is true for superscripts, int() says no
def test_normalisers_answer_a_value_or_a_reason(value: str) -> None:
    assert normalize_doi(value) is None or normalize_doi(value).startswith("10.")  # type: ignore[union-attr]
    for normalise in (normalize_isbn, normalize_issn, normalize_pmid):
        normal, problem = normalise(value)
        assert (normal is None) != (problem is None)
        if problem:
            assert_explained([problem])


@given(mutated_text(REAL))
def test_parsing_is_stable(text: str) -> None:
    assert parse_citation(text) == parse_citation(text)
    assert isinstance(parse_citation(text).citation, Citation)
