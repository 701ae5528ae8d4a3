"""OAI-PMH harvesting from a local repository that serves recorded OAI-PMH pages."""

from __future__ import annotations

from sqlalchemy import select

from kb.catalog.imports.oaipmh import harvest
from kb.catalog.models import HarvestState, Record
from kb.catalog.search import search

from .conftest import fixture, refusing_records

XML = "text/xml; charset=utf-8"


def chain(broken: set[str] | None = None, status: dict[str, int] | None = None):
    """The recorded four-page ListRecords chain; each page's resumption token names the
    next page's file. Pages in ``broken`` are answered once with a truncated body."""
    broken = set(broken or ())
    status = dict(status or {})

    def handler(query: dict[str, str]):
        page = query.get("resumptionToken", "ListRecords.xml")
        if page in status:
            return status.pop(page), XML, b"<html>Internal Server Error</html>"
        if page in broken:
            broken.discard(page)
            return 200, XML, fixture("oaipmh", "ListRecordsBroken.xml").read_bytes()
        if page == "expired-token":
            return 200, XML, fixture("oaipmh", "badResumptionToken.xml").read_bytes()
        return 200, XML, fixture("oaipmh", page).read_bytes()

    return handler


def test_harvest_follows_tokens_and_honours_deletions(libraries, backend, local_server):
    server = local_server(chain())
    summary = harvest(libraries, server.url, metadata_prefix="oai_dc")
    assert summary.complete and not summary.aborted
    assert summary.pages == 4
    assert [q.get("resumptionToken") for q in server.requests] == [
        None, "ListRecords2.xml", "ListRecords3.xml", "ListRecords4.xml",
    ]  # fmt: skip
    assert server.requests[0]["metadataPrefix"] == "oai_dc"
    titles = libraries.scalars(select(Record.source_id)).all()
    assert titles == ["oai:test.example.com:1585322"]  # the deleted one is not there
    assert search(libraries, "Sample Title").total == 1

    # The next run asks only for what changed since the first one began.
    again = harvest(libraries, server.url, metadata_prefix="oai_dc")
    assert server.requests[4]["from"] == "2013-02-27T09:10:56Z"
    assert again.harvested_from == "2013-02-27T09:10:56Z"
    assert (again.added, again.updated) == (0, 0)
    assert len(libraries.scalars(select(Record.id)).all()) == 1


def test_a_record_deleted_at_the_source_is_removed(libraries, backend, local_server):
    first_page = fixture("oaipmh", "ListRecords4.xml").read_bytes()
    # The same page, later: the repository now reports the record as deleted.
    later = first_page.replace(b"<header>", b'<header status="deleted">', 1)
    pages = [first_page, later]
    server = local_server(lambda query: (200, XML, pages.pop(0)))
    harvest(libraries, server.url, metadata_prefix="oai_dc")
    assert libraries.scalar(select(Record.source_id)) == "oai:test.example.com:1585322"
    summary = harvest(libraries, server.url, metadata_prefix="oai_dc")
    assert summary.deleted == 1
    assert libraries.scalar(select(Record.id)) is None
    assert search(libraries, "Sample Title").total == 0


def test_broken_page_keeps_earlier_pages_and_next_run_resumes_there(
    libraries, backend, local_server
):
    server = local_server(chain(broken={"ListRecords3.xml"}))
    summary = harvest(libraries, server.url, metadata_prefix="oai_dc")
    assert not summary.complete
    assert summary.pages == 2
    assert "page 3 is not well-formed XML" in summary.aborted
    assert "resumes from token 'ListRecords3.xml'" in summary.aborted
    assert libraries.scalar(select(Record.source_id)) == "oai:test.example.com:1585322"
    state = libraries.scalar(select(HarvestState))
    assert state.resumption_token == "ListRecords3.xml" and state.last_error

    resumed = harvest(libraries, server.url, metadata_prefix="oai_dc")
    assert resumed.complete and resumed.resumed_from_token == "ListRecords3.xml"
    assert server.requests[3] == {"verb": "ListRecords", "resumptionToken": "ListRecords3.xml"}
    assert libraries.scalar(select(HarvestState)).resumption_token is None


def test_http_error_mid_harvest_is_reported(libraries, backend, local_server):
    server = local_server(chain(status={"ListRecords2.xml": 500}))
    summary = harvest(libraries, server.url, metadata_prefix="oai_dc")
    assert "HTTP 500" in summary.aborted
    assert summary.pages == 1
    assert libraries.scalar(select(HarvestState)).resumption_token == "ListRecords2.xml"


def test_a_refused_resumption_token_says_how_to_start_again(libraries, backend, local_server):
    server = local_server(chain())
    libraries.add(
        HarvestState(endpoint=server.url, set_spec="", metadata_prefix="oai_dc",
                     resumption_token="expired-token", pages=3)
    )  # fmt: skip
    libraries.commit()
    summary = harvest(libraries, server.url, metadata_prefix="oai_dc")
    assert "refused the resumption token" in summary.aborted and "--restart" in summary.aborted
    restarted = harvest(libraries, server.url, metadata_prefix="oai_dc", restart=True)
    assert restarted.complete


def test_dublin_core_records_from_a_real_repository(libraries, backend, local_server):
    page = fixture("oaipmh", "pyoai_fake1_00005.xml").read_bytes()
    server = local_server(lambda query: (200, XML, page))
    summary = harvest(libraries, server.url, metadata_prefix="oai_dc", from_date="2003-04-10")
    assert server.requests[0]["from"] == "2003-04-10"
    assert summary.added == 16 and summary.skipped == 0
    hit = search(libraries, "railway stations geography").hits[0]
    assert hit.record.source_id == "hdl:1765/311"


def test_a_page_the_database_refuses_is_reported_and_harvested_again(
    libraries, backend, local_server
):
    server = local_server(chain())
    with refusing_records(libraries, backend, "1 = 1"):
        summary = harvest(libraries, server.url, metadata_prefix="oai_dc")
    assert not summary.complete
    assert summary.aborted.startswith("page 1: the database refused the records from")
    assert "refused by the test trigger" in summary.aborted
    assert "pages stored: 0" in summary.aborted
    assert libraries.scalar(select(Record.id)) is None

    again = harvest(libraries, server.url, metadata_prefix="oai_dc")
    assert again.complete and again.pages == 4
    assert libraries.scalar(select(Record.source_id)) == "oai:test.example.com:1585322"
