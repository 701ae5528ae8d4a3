"""Answers of remote catalogs: SRU searchRetrieve responses (kb/catalog/sru.py) and
OAI-PMH ListRecords pages (kb/catalog/imports/oaipmh.py). Whatever a server sends,
the parser answers records or its own typed error with a reason, never a crash."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from kb.catalog.imports.oaipmh import _page_records, _PageError, _parse_page
from kb.catalog.sru import SruError, SruSource, parse_response
from tests.fuzz.mutations import FIXTURES, mutated_bytes

SRU = [p.read_bytes() for p in sorted((FIXTURES / "sru").glob("*.xml"))]
OAI = [p.read_bytes() for p in sorted((FIXTURES / "oaipmh").glob("*.xml"))]
SOURCE = SruSource("fuzz", "http://127.0.0.1:9/sru")
_SRU_NS = b'xmlns="http://www.loc.gov/zing/srw/"'


@given(st.one_of(mutated_bytes(SRU), st.binary(max_size=300)))
@example(b"<searchRetrieveResponse " + _SRU_NS + b"><records><record><recordData>&lt;x"
         b"</recordData></record></records></searchRetrieveResponse>")  # fmt: skip
@example(b"<searchRetrieveResponse " + _SRU_NS + b"><diagnostics>text</diagnostics>"
         b"<numberOfRecords>\xd9\xa3</numberOfRecords></searchRetrieveResponse>")  # fmt: skip
@example(
    b"<searchRetrieveResponse " + _SRU_NS + b"><numberOfRecords>\xc2\xb2"
    b"</numberOfRecords></searchRetrieveResponse>"
)  # fmt: skip  (was a ValueError: "²")
def test_an_sru_answer_gives_records_or_a_typed_error(data: bytes) -> None:
    try:
        result = parse_response(data, SOURCE)
    except SruError as refused:
        assert str(refused).strip()
        return
    assert result.total is None or result.total >= 0
    assert all(r.source == "sru:fuzz" for r in result.records)
    assert all(isinstance(d, str) and d for d in result.diagnostics)


@given(st.one_of(mutated_bytes(OAI), st.binary(max_size=300)))
def test_an_oai_pmh_page_gives_records_or_a_typed_error(data: bytes) -> None:
    try:
        root = _parse_page(data, 3)
    except _PageError as refused:
        assert "page 3" in str(refused)
        return
    for result in _page_records(root, 3):
        assert result.position.startswith("page 3, record ")
        if result.record is None and result.deleted_id is None:
            assert result.problems and all(p.reason for p in result.problems)
