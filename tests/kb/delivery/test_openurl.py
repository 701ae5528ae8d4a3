"""OpenURL 1.0 KEV and 0.1 links, as link resolvers really receive them."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest

from kb.delivery.intake import draft_from_text, understand
from kb.delivery.openurl import looks_like_openurl, parse_openurl
from kb.delivery.states import Genre
from kb.delivery.texts import field_name

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "openurl"
NYU_RANDOM = FIXTURES / "100-random-nyu-getit-resolve-openurls.txt"
NYU_TARGETED = FIXTURES / "targeted-getit-test-OpenURLs.txt"
EXAMPLES = FIXTURES / "examples.txt"


def lines(path: Path) -> dict[int, str]:
    """Link lines by line number (comments and blank lines skipped)."""
    text = path.read_text(encoding="utf-8").splitlines()
    return {n: line for n, line in enumerate(text, 1) if line.strip() and not line.startswith("#")}


ALL_LINKS = [
    pytest.param(line, id=f"{path.name}:{n}")
    for path in (NYU_RANDOM, NYU_TARGETED, EXAMPLES)
    for n, line in lines(path).items()
]


@pytest.mark.parametrize("link", ALL_LINKS)
def test_every_real_link_gives_a_request_or_says_what_is_wrong(link):
    result = parse_openurl(link)
    if result.rejected:
        assert result.problems, "a rejected link must say why"
        assert all(p.text("zh") and p.text("en") for p in result.problems)
    else:
        assert result.citation.present()
        for name in result.missing:  # what the form will ask for, in both languages
            assert field_name(name, "zh") != name or name in ("isbn", "issn")
            assert field_name(name, "en")


def test_all_hundred_random_nyu_links_name_an_item():
    results = [parse_openurl(link) for link in lines(NYU_RANDOM).values()]
    assert not [r for r in results if r.rejected]
    incomplete = [r for r in results if r.missing]
    # The incomplete ones lack exactly what a resolver would need to ask for.
    assert all(
        set(r.missing) <= {"article_title", "journal", "chapter", "title"} for r in incomplete
    )
    assert len(incomplete) < len(results) // 5


def test_elsevier_openurl_10_with_doi_maps_every_field():
    link = lines(NYU_RANDOM)[3]  # "resolve??ctx_ver=Z39.88-2004...rfr_id=info:sid/Elsevier:SD"
    result = parse_openurl(link)
    c = result.citation
    assert (result.version, result.referrer) == ("1.0", "info:sid/Elsevier:SD")
    assert c.genre is Genre.ARTICLE
    assert c.article_title == "Postural Pseudoanemia: Posture-Dependent Change in Hematocrit"
    assert (c.journal, c.issn, c.doi) == (
        "Mayo Clinic Proceedings",
        "0025-6196",
        "10.4065/80.5.611",
    )
    assert (c.year, c.volume, c.issue, c.pages) == (2005, "80", "5", "611-614")
    assert c.authors == ["JACOB, G"]
    assert result.complete and not result.problems


WANFANG_ARTICLE = "伦理学视域下再婚家庭子女家庭教育中存在的问题及对策研究"


def test_chinese_titles_escaped_by_the_resolver_log_decode():
    c = parse_openurl(lines(NYU_RANDOM)[4]).citation  # EBSCO / China Online Journals (Wanfang)
    assert c.article_title == WANFANG_ARTICLE
    assert c.journal == "法制与社会 / Legal System and Society"
    assert (c.authors, c.issn, c.year, c.issue, c.pages) == (
        ["刘春晓"],
        "1009-0592",
        2017,
        "15",
        "238",
    )


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_percent_encoded_chinese_titles_decode(encoding):
    # The same real link as a browser sends it: characters, percent-encoded (UTF-8, or GB18030
    # as some Chinese databases still do).
    raw = lines(NYU_RANDOM)[4]
    plain = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), raw)
    ascii_safe = "".join(chr(i) for i in range(33, 127))
    link = quote(plain, safe=ascii_safe, encoding=encoding)
    assert "%E4%BC%A6" in link if encoding == "utf-8" else "%C2%D7" in link  # 伦
    c = parse_openurl(link).citation
    assert c.article_title == WANFANG_ARTICLE
    assert c.authors == ["刘春晓"]


def test_a_whole_journal_is_not_a_request_and_says_so():
    result = parse_openurl(
        lines(EXAMPLES)[31]
    )  # Google Scholar: title=Nature&volume=227&issue=5259&spage=680
    assert result.missing == ["article_title"]
    assert [p.code for p in result.problems] == ["openurl_whole_journal"]
    assert "Nature" in result.problems[0].text("en") and "哪一篇" in result.problems[0].text("zh")


def test_a_link_that_names_nothing_is_rejected_with_the_reason():
    result = parse_openurl(
        lines(EXAMPLES)[20]
    )  # listener-openurl manual: ?id=123&svc_id=contextObject
    assert result.rejected
    assert result.problems[-1].text("en") == (
        "the link has no title and no DOI, PMID, ISBN or ISSN, so it names no item"
    )
    assert parse_openurl("https://example.org/resolve").rejected


def test_proxied_links_are_unwrapped():
    for n in (25, 26, 27):  # ezproxy login?url=..., and the same percent-encoded inside a frame
        assert parse_openurl(lines(EXAMPLES)[n]).citation.title == "The Journal"


def test_unescaped_ampersands_and_html_escaped_links_keep_their_values():
    happi = parse_openurl(lines(EXAMPLES)[76]).citation
    assert happi.journal == "Happi: Household & Personal Products Industry"
    assert happi.article_title == "Estée Lauder's Sales Jump 13% in Fiscal 2021"
    gilded = parse_openurl(lines(NYU_TARGETED)[2]).citation
    assert gilded.journal == "Journal of the Gilded Age & Progressive Era"
    times = parse_openurl(lines(EXAMPLES)[52]).citation  # Summon, "&amp;" between pairs
    assert (times.journal, times.article_title) == (
        "The Times",
        "The easy way to brighten your borders",
    )
    assert times.issn == "0140-0460"


def test_hybrid_and_pure_01_links_of_the_same_article_agree():
    hybrid, pure = parse_openurl(lines(EXAMPLES)[67]), parse_openurl(lines(EXAMPLES)[68])
    assert (hybrid.version, pure.version) == ("1.0", "0.1")
    for result in (hybrid, pure):
        c = result.citation
        assert (c.doi, c.pmid) == ("10.1126/science.275.5304.1320", "9036860")
        assert (c.journal, c.volume, c.pages, c.year) == ("Science", "275", "1320-1323", 1997)


def test_books_chapters_and_theses():
    spec = parse_openurl(lines(EXAMPLES)[66]).citation  # the Z39.88-2004 standard's own example
    assert spec.genre is Genre.BOOK
    assert spec.title == "Dépendances et niveaux de représentation en syntaxe"
    assert (spec.authors, spec.year, spec.publisher) == (["Vergnaud, J.-R"], 1985, "Benjamins")
    sparta = parse_openurl(lines(EXAMPLES)[5]).citation  # Primo -> ILLiad
    assert (sparta.isbn, sparta.title) == (
        "9780715630402",
        "Property and wealth in classical Sparta",
    )
    chapter = parse_openurl(lines(EXAMPLES)[54]).citation  # Serials Solutions bookitem
    assert chapter.genre is Genre.CHAPTER
    assert chapter.article_title == "Finding Keys to School Change: A 40-Year Odyssey"
    assert (chapter.title, chapter.pages) == ("The roots of educational change", "25-57")
    thesis = parse_openurl(lines(EXAMPLES)[62]).citation  # ProQuest dissertation
    assert thesis.genre is Genre.THESIS and thesis.isbn == "9780549836568"


def test_junk_in_identifier_fields_is_reported_and_ignored():
    result = parse_openurl(lines(NYU_RANDOM)[8])  # EBSCO puts a database code in issn=edsble
    assert result.citation.issn is None
    assert [p.text("en") for p in result.problems] == ["ISSN 'edsble' is not a valid ISSN"]
    assert result.missing == ["journal"]
    template = parse_openurl(lines(EXAMPLES)[11])  # Primo left "{{control/<provider_id>}}" in
    assert [p.code for p in template.problems] == ["template_value"]
    assert template.citation.doi == "10.1002/gj.2426"


def test_openurl_dates_in_database_formats():
    assert parse_openurl("genre=article&atitle=A&title=B&date=20170101").citation.year == 2017
    assert parse_openurl("rft.atitle=A&rft.jtitle=B&rft.date=2013-03").citation.year == 2013
    result = parse_openurl("rft.atitle=A&rft.jtitle=B&rft.date=n.d.")
    assert result.citation.year is None and result.problems[0].code == "date_invalid"


def test_intake_tells_links_from_citations():
    assert understand(lines(EXAMPLES)[58]).kind == "openurl"
    assert understand("https://doi.org/10.1038/nature14539").kind == "doi"
    assert (
        understand(
            "https://www.sciencedirect.com/science/article/pii/S0140673620301835?via%3Dihub"
        ).kind
        == "empty"
    )
    assert not looks_like_openurl("LeCun, Y. (2015). Deep learning. Nature, 521, 436-444.")


def test_a_link_prefills_a_draft_that_asks_only_for_the_rest():
    draft, result = draft_from_text(lines(NYU_RANDOM)[3], language="en")
    assert draft.source == "openurl" and draft.citation.doi == "10.4065/80.5.611"
    assert draft.missing() == ["service_type", "delivery_method"]
    draft, result = draft_from_text("三体", language="zh")
    assert (draft.source, draft.citation.title, result.kind) == ("chat", "三体", "title")
