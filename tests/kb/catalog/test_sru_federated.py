"""SRU against a local server answering with recorded SRU responses; federated search
with per-source time limits, partial results and de-duplication."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from kb.catalog.bibdata import BibRecord
from kb.catalog.federated import federated_search, match_key, merge
from kb.catalog.search.query import parse_query
from kb.catalog.sru import SruError, SruSource, cql_query, cql_term, parse_response, search_source
from kb.db import sessionmaker_for

from .conftest import fixture

XML = "text/xml; charset=utf-8"


def recorded(name: str):
    body = fixture("sru", name).read_bytes()
    return lambda query: (200, XML, body)


def test_cql_escapes_user_text():
    assert cql_term('say "hi" *now* \\ ^') == '"say \\"hi\\" \\*now\\* \\\\ \\^"'
    source = SruSource("loc", "http://example.invalid/sru")
    cql = cql_query(parse_query("《三体》 by 刘慈欣"), source)
    assert cql == 'dc.title all "三体" and dc.creator all "刘慈欣"'
    cql = cql_query(parse_query('"quoted" OR 1=1) and dc.title=*'), source)
    assert cql.startswith('cql.serverChoice all "') and cql.count('"') - cql.count('\\"') == 2
    assert cql_query(parse_query("0262035618"), source) == 'bath.isbn="9780262035613"'


def retrieve(source: SruSource, query: str):
    async def run():
        async with httpx.AsyncClient() as client:
            return await search_source(client, source, parse_query(query))

    return asyncio.run(run())


def test_search_retrieve_request_and_marcxml_records(local_server):
    server = local_server(recorded("sru-loc.xml"))
    result = retrieve(SruSource("LoC", server.url, version="1.2"), "louisiana cajun")
    sent = server.requests[0]
    assert sent["operation"] == "searchRetrieve" and sent["version"] == "1.2"
    assert sent["query"] == 'cql.serverChoice all "louisiana cajun"'
    assert sent["recordSchema"] == "marcxml" and sent["recordPacking"] == "xml"
    assert result.total == 2525 and len(result.records) == 10
    assert result.records[0].title == "15 Louisiana cajun classics"


def test_sru_2_uses_record_xml_escaping(local_server):
    server = local_server(recorded("sru-alma.xml"))
    result = retrieve(SruSource("alma", server.url, version="2.0"), "eightfold way")
    assert server.requests[0]["recordXMLEscaping"] == "xml"
    assert [r.title for r in result.records][:1] == ["The eightfold way"]


def test_dublin_core_records():
    result = parse_response(
        fixture("sru", "response_single_sru11.xml").read_bytes(), SruSource("dnb", "")
    )
    assert result.records[0].title.startswith("Moving Art")


@pytest.mark.parametrize(
    "body", [b"<html><body>502 Bad Gateway</body></html>", b"not xml at all", b"<a><b></a>"]
)
def test_garbage_is_an_error_not_results(body):
    with pytest.raises(SruError):
        parse_response(body, SruSource("x", ""))


def _local_catalog(session):
    from kb.catalog.bibdata import ItemData
    from kb.catalog.libraries import SAMPLE_LIBRARIES, ensure_libraries
    from kb.catalog.store import known_library_codes, store_batch

    ensure_libraries(session, SAMPLE_LIBRARIES)
    store_batch(
        session,
        [BibRecord("local", "1", "The eightfold way", authors=["Gell-Mann, Murray"],
                   isbns=["9780738202990"], year=2000, items=[ItemData("PKU")])],
        library_codes=known_library_codes(session),
    )  # fmt: skip
    session.commit()


def test_federated_merges_local_and_remote_and_marks_a_slow_source(session, db_url, local_server):
    _local_catalog(session)
    alma = local_server(recorded("sru-alma.xml"))
    hanging = local_server(lambda query: (200, XML, None))
    garbage = local_server(lambda query: (200, "text/html", b"<html>oops</html>"))
    sources = [
        SruSource("alma", alma.url),
        SruSource("slow", hanging.url),
        SruSource("broken", garbage.url),
    ]
    started = time.perf_counter()
    result = asyncio.run(
        federated_search(sessionmaker_for(db_url), "eightfold way", sources=sources, timeout=0.5)
    )
    assert time.perf_counter() - started < 3
    outcomes = {o.name: o for o in result.outcomes}
    assert outcomes["local"].ok and outcomes["alma"].ok
    assert outcomes["slow"].timed_out and "0.5 s" in outcomes["slow"].error
    assert not outcomes["broken"].ok and "searchRetrieveResponse" in outcomes["broken"].error
    assert result.partial
    # The local record and alma's copy of the same book are one hit with both sources.
    first = result.hits[0]
    assert first.record_id is not None and first.availability
    assert first.title == "The eightfold way"
    assert "local" in first.sources
    assert "alma" in first.sources


def test_merge_dedupes_by_isbn_then_title_and_author():
    remote = [
        ("a", [BibRecord("x", "1", "Dune", authors=["Herbert, Frank"], isbns=["9780441013593"])]),
        ("b", [BibRecord("x", "2", "DUNE.", authors=["Frank Herbert"]),
               BibRecord("x", "3", "Dune", authors=["Herbert, Frank"], isbns=["9780441013593"]),
               BibRecord("x", "4", "Dune messiah", authors=["Herbert, Frank"])]),
    ]  # fmt: skip
    hits = merge([], remote)
    # "DUNE." has no ISBN but the same title and author: the same book.
    assert [h.title for h in hits] == ["Dune", "Dune messiah"]
    assert hits[0].sources == ["a", "b"]
    assert match_key("DUNE.", ["Frank Herbert"]) == match_key("Dune", ["Herbert, Frank"])
