"""OpenURL links (kb/delivery/openurl.py): never a crash, every rejection explained in
both languages, and a link's citation survives being rebuilt and read again."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from kb.delivery.openurl import build_openurl, looks_like_openurl, parse_openurl
from tests.fuzz.mutations import FIXTURES, lines_of, mutated_text, nasty_text

REAL = [
    line
    for name in ("examples.txt", "100-random-nyu-getit-resolve-openurls.txt")
    for line in lines_of(FIXTURES / "openurl" / name)
]
KEYS = ["rft.atitle", "rft.jtitle", "rft.btitle", "rft.title", "rft.au", "rft.date", "rft.isbn",
        "rft.issn", "rft_id", "rft_val_fmt", "url_ver", "ctx_enc", "genre", "atitle", "title",
        "issn", "isbn", "spage", "epage", "date", "id", "pmid", "url", "sid", "aulast"]  # fmt: skip
built_links = st.lists(
    st.tuples(
        st.sampled_from(KEYS),
        st.one_of(nasty_text, st.sampled_from(["%", "%E4%B8", "%ZZ", "\\u4e2", "{{x}}", "=&"])),
    ),
    max_size=12,
).map(lambda pairs: "https://r.example/?" + "&".join(f"{k}={v}" for k, v in pairs))
links = st.one_of(nasty_text, built_links, mutated_text(REAL))


def assert_explained(result) -> None:  # type: ignore[no-untyped-def]
    if result.rejected:
        assert result.problems, "a rejected link must say why"
    for problem in result.problems:
        for language in ("zh", "en"):
            assert problem.text(language).strip()
    assert problem_texts_differ(result)


def problem_texts_differ(result) -> bool:  # type: ignore[no-untyped-def]
    # The Chinese text is Chinese: not the English one passed through.
    return all(p.text("zh") != p.text("en") for p in result.problems)


@given(links)
@example("?rft.date=%F0%9F%98%80")
@example("?pmid=%C2%B9")  # was a ValueError (500 on /openurl): "¹".isdigit() is True
@example("?url=https://x.example/%3Frft.atitle%3D%25&rft.au=%00")
@example("?rft.atitle=\\ud800\\udc00")
def test_any_link_is_parsed_or_rejected_with_a_reason(link: str) -> None:
    result = parse_openurl(link)
    assert_explained(result)
    assert isinstance(looks_like_openurl(link), bool)


@given(mutated_text(REAL))
def test_an_accepted_link_rebuilt_and_read_again_gives_the_same_citation(link: str) -> None:
    first = parse_openurl(link)
    if first.rejected:
        return
    again = parse_openurl("?" + build_openurl(first.citation))
    assert not again.rejected
    assert again.citation == first.citation


@given(st.sampled_from(REAL))
def test_every_real_link_round_trips(link: str) -> None:
    first = parse_openurl(link)
    if not first.rejected:
        assert parse_openurl("?" + build_openurl(first.citation)).citation == first.citation
