"""SRU (Search/Retrieve via URL) 1.1, 1.2 and 2.0 client: CQL out, MARCXML or Dublin Core in.

User text only ever reaches CQL inside a quoted, escaped term.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from lxml import etree

from kb.catalog.bibdata import BibRecord
from kb.catalog.imports.dublincore import bib_from_dublin_core, is_dublin_core
from kb.catalog.imports.marcmap import bib_from_marc
from kb.catalog.imports.marcxml import is_marc_record, local_name, marc_from_element
from kb.catalog.search.query import ParsedQuery

_STRICT = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


@dataclass(frozen=True)
class SruSource:
    name: str
    url: str
    version: str = "1.2"
    record_schema: str = "marcxml"
    max_records: int = 10
    # CQL indexes this server understands for each part of a query.
    title_index: str = "dc.title"
    author_index: str = "dc.creator"
    isbn_index: str = "bath.isbn"
    any_index: str = "cql.serverChoice"


@dataclass
class SruResult:
    source: SruSource
    records: list[BibRecord]
    total: int | None
    diagnostics: list[str] = field(default_factory=list)


class SruError(Exception):
    """The server's answer was not an SRU response we can use."""


def cql_term(text: str) -> str:
    """A CQL quoted string with its own quotes, backslashes and wildcards escaped."""
    escaped = "".join("\\" + c if c in '\\"*?^' else c for c in " ".join(text.split()))
    return f'"{escaped}"'


def cql_query(parsed: ParsedQuery, source: SruSource) -> str:
    clauses = []
    if parsed.isbns:
        isbns = " or ".join(f"{source.isbn_index}={cql_term(i)}" for i in parsed.isbns)
        clauses.append(f"({isbns})" if len(parsed.isbns) > 1 else isbns)
    if parsed.title:
        clauses.append(f"{source.title_index} all {cql_term(parsed.title)}")
    if parsed.author:
        clauses.append(f"{source.author_index} all {cql_term(parsed.author)}")
    if parsed.keywords:
        clauses.append(f"{source.any_index} all {cql_term(parsed.keywords)}")
    return " and ".join(clauses)


def request_params(parsed: ParsedQuery, source: SruSource) -> dict[str, str]:
    params = {
        "operation": "searchRetrieve",
        "version": source.version,
        "query": cql_query(parsed, source),
        "maximumRecords": str(source.max_records),
        "recordSchema": source.record_schema,
    }
    # SRU 2.0 renamed recordPacking (xml/string) to recordXMLEscaping.
    params["recordXMLEscaping" if source.version.startswith("2") else "recordPacking"] = "xml"
    return params


async def search_source(
    client: httpx.AsyncClient, source: SruSource, parsed: ParsedQuery
) -> SruResult:
    response = await client.get(source.url, params=request_params(parsed, source))
    if response.status_code != 200:
        raise SruError(f"HTTP {response.status_code}")
    return parse_response(response.content, source)


def parse_response(content: bytes, source: SruSource) -> SruResult:
    try:
        root = etree.fromstring(content, _STRICT)
    except etree.XMLSyntaxError as error:
        raise SruError(f"not well-formed XML: {error.msg}") from error
    if local_name(root) != "searchRetrieveResponse":
        raise SruError(f"not an SRU searchRetrieveResponse (root element {local_name(root)!r})")
    total_text = _child_text(root, "numberOfRecords")
    # isdecimal, not isdigit: "²".isdigit() is True but int() refuses it.
    total = int(total_text) if total_text and total_text.isdecimal() else None
    diagnostics = [
        " ".join(filter(None, [_child_text(d, "message"), _child_text(d, "details")]))
        or (_child_text(d, "uri") or "diagnostic")
        for d in _children(root, "diagnostics")
        for d in d
        if isinstance(d.tag, str)
    ]
    records = []
    for position, record in enumerate(_record_elements(root), start=1):
        if (bib := _bib_of(record, source, position)) is not None:
            records.append(bib)
    return SruResult(source, records, total, diagnostics)


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in element if isinstance(c.tag, str) and local_name(c) == name]


def _child_text(element: etree._Element, name: str) -> str | None:
    for child in _children(element, name):
        return (child.text or "").strip()
    return None


def _record_elements(root: etree._Element) -> list[etree._Element]:
    return [r for records in _children(root, "records") for r in _children(records, "record")]


def _bib_of(record: etree._Element, source: SruSource, position: int) -> BibRecord | None:
    data = next(iter(_children(record, "recordData")), None)
    if data is None:
        return None
    payload = next((c for c in data if isinstance(c.tag, str)), None)
    if payload is None and (data.text or "").strip().startswith("<"):
        try:  # recordPacking "string": the record is escaped XML text
            payload = etree.fromstring(data.text.strip().encode("utf-8"), _STRICT)
        except etree.XMLSyntaxError:
            return None
    if payload is None:
        return None
    record_id = _child_text(record, "recordIdentifier") or f"{position}"
    marc = (
        payload
        if is_marc_record(payload)
        else next((e for e in payload.iter() if is_marc_record(e)), None)
    )
    if marc is not None:
        bib, _ = bib_from_marc(
            marc_from_element(marc, f"record {position}")[0], f"record {position}"
        )
    elif is_dublin_core(payload):
        bib = bib_from_dublin_core(payload, record_id)
    else:
        return None
    if bib is not None:
        bib.source = f"sru:{source.name}"
    return bib
