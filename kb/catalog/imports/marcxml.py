"""MARCXML (MARC 21 slim, MARCXchange, or un-namespaced MARC elements as some SRU and
OAI-PMH servers send them), streamed with lxml so large files use little memory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pymarc
from lxml import etree

from kb.catalog.imports.marcmap import bib_from_marc
from kb.catalog.imports.report import Problem, ReadResult, Severity
from kb.catalog.imports.runner import InputError

MARC_NAMESPACES = frozenset(
    {
        "http://www.loc.gov/MARC21/slim",
        "info:lc/xmlns/marcxchange-v1",
        "http://www.rba.ru/rusmarc/soft",  # UNIMARC slim (RUSMARC)
        "",
    }
)
_BLANK_LEADER = "     nam a22     7a 4500"


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def is_marc_record(element: etree._Element) -> bool:
    if not isinstance(element.tag, str) or local_name(element) != "record":
        return False
    if (etree.QName(element).namespace or "") not in MARC_NAMESPACES:
        return False
    return any(local_name(c) in ("leader", "controlfield", "datafield") for c in element)


def read_marcxml(path: Path) -> Iterator[ReadResult]:
    number = 0
    try:
        for _, element in etree.iterparse(str(path), events=("end",), huge_tree=True):
            if not is_marc_record(element):
                continue
            number += 1
            position = f"record {number} (line {element.sourceline})"
            # lxml gives no byte offsets: progress is counted in records.
            yield bib_result_from_element(element, position)
            element.clear(keep_tail=False)
    except etree.XMLSyntaxError as error:
        raise InputError(
            f"{path.name}: not well-formed XML at {_where(error)}: {error.msg}"
        ) from error


def _where(error: etree.XMLSyntaxError) -> str:
    line, column = error.position if error.position else (error.lineno, 0)
    return f"line {line}, column {column}"


def bib_result_from_element(element: etree._Element, position: str) -> ReadResult:
    record, problems = marc_from_element(element, position)
    bib, map_problems = bib_from_marc(record, position)
    return ReadResult(position, record=bib, problems=problems + map_problems)


def marc_from_element(
    element: etree._Element, position: str
) -> tuple[pymarc.Record, list[Problem]]:
    problems: list[Problem] = []

    def warn(child: etree._Element, reason: str) -> None:
        problems.append(Problem(position, f"line {child.sourceline}: {reason}", Severity.WARNING))

    leader = _BLANK_LEADER
    record_fields: list[pymarc.Field] = []
    for child in element:
        name = local_name(child)
        if name == "leader":
            text = child.text or ""
            if len(text) != 24:
                warn(child, f"leader is {len(text)} characters, not 24; padded")
            leader = (text + _BLANK_LEADER[len(text) :])[:24]
        elif name == "controlfield":
            tag = (child.get("tag") or "").strip()
            if not tag:
                warn(child, "controlfield without a tag attribute dropped")
                continue
            record_fields.append(pymarc.Field(tag=tag, data=child.text or ""))
        elif name == "datafield":
            tag = (child.get("tag") or "").strip()
            if not tag:
                warn(child, "datafield without a tag attribute dropped")
                continue
            subfields = []
            for sub in child:
                if local_name(sub) != "subfield":
                    continue
                code = sub.get("code")
                if not code:
                    warn(sub, f"subfield of {tag} without a code attribute dropped")
                    continue
                subfields.append(pymarc.Subfield(code=code, value=sub.text or ""))
            indicators = pymarc.Indicators(child.get("ind1") or " ", child.get("ind2") or " ")
            record_fields.append(pymarc.Field(tag=tag, indicators=indicators, subfields=subfields))
    record = pymarc.Record(leader=leader, force_utf8=True)
    record.add_field(*record_fields)
    return record, problems
