"""Reading pasted references and identifiers; nothing is invented, what is missing is named."""

from __future__ import annotations

import pytest

from kb.delivery.citations import Citation, parse_citation
from kb.delivery.identifiers import find_identifiers, normalize_doi, normalize_isbn, normalize_issn
from kb.delivery.intake import understand
from kb.delivery.states import Genre


def fields_of(text: str) -> dict[str, object]:
    citation = parse_citation(text).citation
    return {name: getattr(citation, name) for name in citation.present()}


# --- identifiers ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "10.1038/nature14539",
        "doi:10.1038/nature14539",
        "DOI: 10.1038/NATURE14539",
        "https://doi.org/10.1038/nature14539",
        "http://dx.doi.org/10.1038/nature14539.",
        "https://doi.org/10.1038%2Fnature14539",
        "info:doi/10.1038/nature14539",
        "帮我传递这篇论文 doi:10.1038/nature14539，谢谢",
    ],
)
def test_dois_are_found_in_every_form_patrons_paste(text):
    assert normalize_doi(text) == "10.1038/nature14539"
    assert understand(text).citation.doi == "10.1038/nature14539"


def test_doi_brackets_belong_to_the_doi_only_when_balanced():
    assert normalize_doi("(see https://doi.org/10.1016/S0140-6736(20)30183-5)") == (
        "10.1016/s0140-6736(20)30183-5"
    )
    assert normalize_doi("[10.1002/cpp.2357]") == "10.1002/cpp.2357"


@pytest.mark.parametrize(
    ("given", "isbn13"),
    [
        ("978-7-5366-9293-0", "9787536692930"),  # 《三体》, 重庆出版社 2008
        ("9787536692930", "9787536692930"),
        ("0-262-03561-8", "9780262035613"),  # ISBN-10 of Goodfellow et al., Deep Learning
        ("0715630407", "9780715630402"),
        ("ISBN 978 7 5366 9293 0", "9787536692930"),
    ],
)
def test_isbns_are_checked_and_normalised_to_isbn13(given, isbn13):
    found = find_identifiers(given)
    assert found.isbns == [isbn13]
    assert normalize_isbn(given.removeprefix("ISBN "))[0] == isbn13


def test_a_wrong_isbn_check_digit_is_reported_not_corrected():
    result = understand("ISBN 978-7-5366-9293-1")
    assert result.citation.isbn is None
    assert [p.code for p in result.problems] == ["isbn_checksum"]
    assert "978-7-5366-9293-1" in result.problems[0].text("en")
    assert "校验位" in result.problems[0].text("zh")
    # Unlabelled digits that fail the checksum are just digits (a phone number, a page range).
    assert find_identifiers("call 13912345678 about 12-20").isbns == []


def test_issn_and_pmid_are_read_only_when_labelled():
    found = find_identifiers("ISSN 0252-3116, PMID: 9036860, pages 2019-2020")
    assert (found.issn, found.pmid) == ("0252-3116", "9036860")
    assert normalize_issn("00256196") == ("0025-6196", None)
    assert normalize_issn("edsble")[0] is None
    assert understand("https://pubmed.ncbi.nlm.nih.gov/9036860/").citation.pmid == "9036860"


# --- reference styles (real references) ------------------------------------------


def test_gbt7714_book_from_the_issue():
    assert fields_of("[1] 刘慈欣. 三体[M]. 重庆: 重庆出版社, 2008.") == {
        "title": "三体",
        "authors": ["刘慈欣"],
        "year": 2008,
        "publisher": "重庆出版社",
        "place": "重庆",
    }
    assert (
        parse_citation("[1] 刘慈欣. 三体[M]. 重庆: 重庆出版社, 2008.").citation.genre is Genre.BOOK
    )


def test_gbt7714_journal_article():
    text = (
        "袁训来, 陈哲, 肖书海, 等. 蓝田生物群: 一个认识多细胞生物起源和早期演化的新窗口[J]. "
        "科学通报, 2012, 55(34): 3219-3227."
    )
    result = parse_citation(text)
    assert result.style == "gbt7714" and result.citation.genre is Genre.ARTICLE
    assert fields_of(text) == {
        "article_title": "蓝田生物群: 一个认识多细胞生物起源和早期演化的新窗口",
        "journal": "科学通报",
        "authors": ["袁训来", "陈哲", "肖书海"],  # "等" (et al.) is not an author
        "year": 2012,
        "volume": "55",
        "issue": "34",
        "pages": "3219-3227",
    }
    assert result.complete


def test_gbt7714_typed_with_full_width_punctuation():
    text = "[2] 钱智勇．数字化文献传递[J]．大学图书馆学报，2005，23（4）：12－15．"
    assert fields_of(text) == {
        "article_title": "数字化文献传递",
        "journal": "大学图书馆学报",
        "authors": ["钱智勇"],
        "year": 2005,
        "volume": "23",
        "issue": "4",
        "pages": "12-15",
    }


def test_gbt7714_part_of_a_book_and_thesis():
    chapter = (
        "程根伟. 1998年长江洪水的成因与减灾对策[M]//许厚泽, 赵其国. "
        "长江流域洪涝灾害与科技对策. 北京: 科学出版社, 1999: 32-36."
    )
    c = parse_citation(chapter).citation
    assert c.genre is Genre.CHAPTER
    assert (c.article_title, c.title) == (
        "1998年长江洪水的成因与减灾对策",
        "长江流域洪涝灾害与科技对策",
    )
    assert (c.place, c.publisher, c.year, c.pages) == ("北京", "科学出版社", 1999, "32-36")
    assert c.authors == ["程根伟"]
    thesis = parse_citation(
        "吴云芳. 面向中文信息处理的现代汉语并列结构研究[D]. 北京: 北京大学, 2003."
    ).citation
    assert (thesis.genre, thesis.title, thesis.publisher, thesis.year) == (
        Genre.THESIS,
        "面向中文信息处理的现代汉语并列结构研究",
        "北京大学",
        2003,
    )


def test_apa_article_with_doi():
    text = (
        "LeCun, Y., Bengio, Y., & Hinton, G. (2015). Deep learning. Nature, 521(7553), 436–444. "
        "https://doi.org/10.1038/nature14539"
    )
    result = parse_citation(text)
    assert result.style == "apa"
    assert fields_of(text) == {
        "article_title": "Deep learning",
        "journal": "Nature",
        "authors": ["LeCun, Y", "Bengio, Y", "Hinton, G"],
        "year": 2015,
        "volume": "521",
        "issue": "7553",
        "pages": "436-444",
        "doi": "10.1038/nature14539",
    }


def test_apa_book_with_edition():
    c = parse_citation(
        "American Psychological Association. (2020). Publication manual of the American "
        "Psychological Association (7th ed.). American Psychological Association."
    ).citation
    assert c.genre is Genre.BOOK
    assert c.title == "Publication manual of the American Psychological Association"
    assert (c.edition, c.year) == ("7th ed", 2020)


def test_mla_article():
    text = (
        'Lessig, Lawrence. "The Law of the Horse: What Cyberlaw Might Teach." '
        "Harvard Law Review, vol. 113, no. 2, 1999, pp. 501-549."
    )
    assert parse_citation(text).style == "mla"
    assert fields_of(text) == {
        "article_title": "The Law of the Horse: What Cyberlaw Might Teach",
        "journal": "Harvard Law Review",
        "authors": ["Lessig, Lawrence"],
        "year": 1999,
        "volume": "113",
        "issue": "2",
        "pages": "501-549",
    }


def test_vancouver_article_with_pmid_and_doi():
    text = (
        "Bergelson JM, Cunningham JA, Droguett G, et al. Isolation of a common receptor for "
        "coxsackie B viruses and adenoviruses 2 and 5. Science. 1997 Feb 28;275(5304):1320-3. "
        "doi: 10.1126/science.275.5304.1320. PMID: 9036860."
    )
    result = parse_citation(text)
    assert result.style == "vancouver"
    assert fields_of(text) == {
        "article_title": (
            "Isolation of a common receptor for coxsackie B viruses and adenoviruses 2 and 5"
        ),
        "journal": "Science",
        "authors": ["Bergelson JM", "Cunningham JA", "Droguett G"],
        "year": 1997,
        "volume": "275",
        "issue": "5304",
        "pages": "1320-3",
        "doi": "10.1126/science.275.5304.1320",
        "pmid": "9036860",
    }


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("三体", "三体"),
        ("《活着》", "活着"),
        ("Attention is all you need", "Attention is all you need"),
    ],
)
def test_a_title_alone_is_a_title_and_nothing_else(text, title):
    result = parse_citation(text)
    assert result.kind == "title"
    assert fields_of(text) == {"title": title}
    assert result.citation.genre is Genre.UNKNOWN


def test_nothing_is_invented():
    # A DOI alone gives a DOI: no title, no journal, no year made up from it.
    assert fields_of("https://doi.org/10.1126/science.275.5304.1320") == {
        "doi": "10.1126/science.275.5304.1320"
    }
    # A GB/T book without an imprint has no publisher, place or year.
    assert fields_of("刘慈欣. 三体[M].") == {"title": "三体", "authors": ["刘慈欣"]}


def test_an_empty_paste_says_so():
    result = parse_citation("   ")
    assert result.kind == "empty" and result.missing == ["title"]
    assert result.problems[0].text("zh") == "没有收到文献信息"


# --- what a request still needs ---------------------------------------------------


@pytest.mark.parametrize(
    ("citation", "missing"),
    [
        (Citation(doi="10.1038/nature14539"), []),
        (Citation(pmid="9036860"), []),
        (Citation(genre=Genre.ARTICLE, article_title="Deep learning"), ["journal"]),
        (Citation(genre=Genre.ARTICLE, issn="0028-0836"), ["article_title"]),
        (Citation(genre=Genre.ARTICLE, issn="0028-0836", article_title="Deep learning"), []),
        (Citation(journal="Nature", volume="521"), ["article_title"]),
        (Citation(genre=Genre.BOOK), ["title"]),
        (Citation(isbn="9787536692930"), []),
        (Citation(genre=Genre.CHAPTER, title="长江流域洪涝灾害与科技对策"), ["chapter"]),
        (Citation(genre=Genre.CHAPTER, isbn="9787536692930", pages="32-36"), []),
        (Citation(), ["title"]),
    ],
)
def test_missing_names_what_a_librarian_needs(citation, missing):
    assert citation.missing() == missing


def test_merging_fills_blanks_and_never_overwrites():
    parsed = Citation(title="三体", year=2008)
    merged = parsed.merged_with(
        Citation(genre=Genre.BOOK, title="Three Body", isbn="9787536692930")
    )
    assert (merged.title, merged.year, merged.isbn, merged.genre) == (
        "三体",
        2008,
        "9787536692930",
        Genre.BOOK,
    )
