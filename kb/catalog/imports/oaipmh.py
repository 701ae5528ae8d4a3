"""OAI-PMH harvesting (ListRecords) with oaipmh-scythe: incremental by ``from`` date,
resumption tokens followed, deleted records removed.

After every page the records are committed together with the token of the next page,
so a harvest that fails mid-way (HTTP error, an OAI-PMH error, a page that is not
well-formed XML) keeps everything before it, and the next run resumes at that page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx2
from lxml import etree
from oaipmh_scythe import Scythe
from oaipmh_scythe.config import HTTPConfig, RetryConfig
from oaipmh_scythe.exceptions import BadResumptionToken, NoRecordsMatch, OAIPMHException
from oaipmh_scythe.iterator import OAIResponseIterator
from oaipmh_scythe.response import OAIResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.catalog.imports.dublincore import bib_from_dublin_core, is_dublin_core
from kb.catalog.imports.marcxml import bib_result_from_element, is_marc_record, local_name
from kb.catalog.imports.report import ImportSummary, Problem, ReadResult
from kb.catalog.imports.runner import Progress, StoreFailed, run_import
from kb.catalog.models import HarvestState

OAI = "{http://www.openarchives.org/OAI/2.0/}"
# No DTDs, no entities, no network: a harvested page is data, never instructions.
_STRICT = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


@dataclass
class HarvestSummary(ImportSummary):
    pages: int = 0
    resumed_from_token: str | None = None
    harvested_from: str | None = None  # the ``from`` date of this run
    next_from: str | None = None  # what the next run will ask from, once complete
    complete: bool = False


def source_name(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"oai:{parts.netloc}{parts.path}".rstrip("/")


def harvest(
    session: Session,
    endpoint: str,
    *,
    metadata_prefix: str = "marc21",
    set_spec: str | None = None,
    from_date: str | None = None,
    until: str | None = None,
    default_library: str | None = None,
    restart: bool = False,
    timeout: float = 60.0,
    progress: Progress | None = None,
) -> HarvestSummary:
    """Harvest new and changed records since the last complete run (or ``from_date``);
    after an interrupted run, go on from its saved resumption token unless ``restart``."""
    state = _state(session, endpoint, set_spec or "", metadata_prefix)
    source = source_name(endpoint)
    summary = HarvestSummary(source=source)
    token = None if restart else state.resumption_token
    if token:
        summary.resumed_from_token = token
        summary.harvested_from = state.run_from
    else:
        summary.harvested_from = from_date or state.next_from
        state.run_from, state.run_started_at, state.pages = summary.harvested_from, None, 0
        state.resumption_token = None
    scythe = _StrictScythe(
        endpoint,
        iterator=OAIResponseIterator,
        http_config=HTTPConfig(timeout=timeout),
        retry_config=RetryConfig(max_retries=1, default_retry_after=5),
    )
    try:
        pages = scythe.list_records(
            from_=None if token else summary.harvested_from,
            until=until,
            metadata_prefix=metadata_prefix,
            set_=set_spec,
            resumption_token=token,
        )
        for response in pages:
            assert isinstance(response, OAIResponse)  # OAIResponseIterator yields pages
            summary.pages += 1
            page_number = state.pages + 1
            root = _parse_page(response.http_response.content, page_number)
            if state.run_started_at is None:
                state.run_started_at = root.findtext(f"{OAI}responseDate")
            page = run_import(
                session,
                _page_records(root, page_number),
                source=source,
                default_library=default_library,
                progress=progress,
            )
            summary.merge(page)
            state.pages = page_number
            state.resumption_token = _next_token(root)
            state.last_error = None
            session.commit()
            if not state.resumption_token:
                break
    except NoRecordsMatch:
        state.resumption_token = None
    except StoreFailed as error:
        # The page's earlier batches are stored; its token is not, so the next run
        # fetches the page again.
        session.rollback()
        summary.merge(error.summary)
        summary.aborted = f"page {state.pages + 1}: {error}; {_kept(state)}"
        state.last_error = summary.aborted
        session.commit()
        return summary
    except (OAIPMHException, httpx2.HTTPError, _PageError) as error:
        if isinstance(error, _PageError):
            error = _PageError(str(error).replace("a page", f"page {state.pages + 1}", 1))
        summary.aborted = _describe(error, state)
        state.last_error = summary.aborted
        session.commit()
        return summary
    finally:
        scythe.close()
    summary.complete = True
    state.next_from = state.run_started_at or state.next_from
    state.resumption_token = None
    summary.next_from = state.next_from
    session.commit()
    return summary


class _PageError(Exception):
    pass


class _StrictScythe(Scythe):
    """Scythe parses pages leniently (lxml's recover mode), which would silently drop
    the records of a truncated page and could end a harvest early. Every page is checked
    to be well-formed XML before scythe reads it."""

    def harvest(self, query: dict[str, str]) -> OAIResponse:
        http_response = self._request_with_retry(query)
        try:
            etree.fromstring(http_response.content, _STRICT)
        except etree.XMLSyntaxError as error:
            http_response.raise_for_status()
            line, column = error.position if error.position else (error.lineno, 0)
            raise _PageError(
                f"a page is not well-formed XML (line {line}, column {column}: {error.msg})"
            ) from error
        response = OAIResponse(http_response, params=query)
        response.raise_for_oaipmh_error()
        http_response.raise_for_status()
        return response


def _parse_page(content: bytes, page_number: int) -> etree._Element:
    try:
        return etree.fromstring(content, _STRICT)
    except etree.XMLSyntaxError as error:
        line, column = error.position if error.position else (error.lineno, 0)
        raise _PageError(
            f"page {page_number} is not well-formed XML (line {line}, column {column}: {error.msg})"
        ) from error


def _next_token(root: etree._Element) -> str | None:
    token = root.find(f".//{OAI}resumptionToken")
    text = (token.text or "").strip() if token is not None else ""
    return text or None


def _page_records(root: etree._Element, page_number: int) -> Iterator[ReadResult]:
    for number, record in enumerate(root.iter(f"{OAI}record"), start=1):
        header = record.find(f"{OAI}header")
        identifier = (header.findtext(f"{OAI}identifier") if header is not None else "") or ""
        position = f"page {page_number}, record {number}"
        if not identifier.strip():
            yield ReadResult(position, problems=[Problem(position, "header has no identifier")])
            continue
        identifier = identifier.strip()
        if header is not None and header.get("status") == "deleted":
            yield ReadResult(position, deleted_id=identifier)
            continue
        metadata = record.find(f"{OAI}metadata")
        payload = (
            next((c for c in metadata if isinstance(c.tag, str)), None)
            if metadata is not None
            else None
        )
        marc = None
        if payload is not None:
            marc = (
                payload
                if is_marc_record(payload)
                else next((e for e in payload.iter() if is_marc_record(e)), None)
            )
        if marc is not None:
            result = bib_result_from_element(marc, position)
            if result.record is not None:
                result.record.source_id = identifier
            yield result
        elif payload is not None and is_dublin_core(payload):
            bib = bib_from_dublin_core(payload, identifier)
            problems = (
                []
                if bib
                else [
                    Problem(position, "Dublin Core record without dc:title", record_id=identifier)
                ]
            )
            yield ReadResult(position, record=bib, problems=problems)
        else:
            kind = local_name(payload) if payload is not None else "nothing"
            yield ReadResult(
                position,
                problems=[
                    Problem(
                        position,
                        f"metadata is {kind}, neither MARCXML nor Dublin Core",
                        record_id=identifier,
                    )
                ],
            )


def _kept(state: HarvestState) -> str:
    if state.resumption_token:
        kept = f"the next run resumes from token {state.resumption_token!r}"
    else:
        kept = f"the next run starts again from {state.run_from or 'the beginning'}"
    return f"pages stored: {state.pages}; {kept}"


def _describe(error: Exception, state: HarvestState) -> str:
    kept = _kept(state)
    if isinstance(error, BadResumptionToken):
        return f"the repository refused the resumption token ({error}); run again with --restart"
    if isinstance(error, OAIPMHException):
        return (
            f"the repository answered with an OAI-PMH error {type(error).__name__}: {error}; {kept}"
        )
    if isinstance(error, httpx2.HTTPStatusError):
        return f"HTTP {error.response.status_code} from {error.request.url}; {kept}"
    if isinstance(error, httpx2.HTTPError):
        return f"{type(error).__name__} talking to the repository: {error}; {kept}"
    return f"{error}; {kept}"


def _state(session: Session, endpoint: str, set_spec: str, prefix: str) -> HarvestState:
    state = session.scalar(
        select(HarvestState).where(
            HarvestState.endpoint == endpoint,
            HarvestState.set_spec == set_spec,
            HarvestState.metadata_prefix == prefix,
        )
    )
    if state is None:
        state = HarvestState(endpoint=endpoint, set_spec=set_spec, metadata_prefix=prefix, pages=0)
        session.add(state)
        session.flush()
    return state
