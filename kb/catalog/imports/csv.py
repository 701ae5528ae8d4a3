"""Catalog records from CSV: one row per copy, rows of one record next to each other.

Header (names are case-insensitive; Chinese names in brackets are accepted too):

  id [记录号]           required: the record's id in this source (re-imports update it)
  title [题名, 书名]     required on the first row of a record
  subtitle [副题名]
  authors [作者, 责任者]          several separated by ";"
  subjects [主题, 主题词]         several separated by ";"
  isbn [ISBN]  issn [ISSN]        several separated by ";"; ISBN-10 or -13
  language [语种]       ISO 639-1 ("zh") or MARC ("chi")
  year [出版年]  publisher [出版社, 出版者]
  format [类型]         book / ebook / journal / article / thesis
  clc [中图分类号, 分类号]  lcc  ddc  url [链接]  summary [摘要]
  library [馆代码]      member library code of this row's copy (PKU, THU, ...)
  call_number [索书号]  location [馆藏地]  barcode [条码]
  status [状态]         available / on_loan / in_processing / missing
  due_date [应还日期]   YYYY-MM-DD, for copies on loan
  loanable [可外借]     yes/no (no = reference only)

A row without ``library`` describes the record only.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import BinaryIO

from kb.catalog.bibdata import BibRecord, ItemData
from kb.catalog.identifiers import normalize_isbn, normalize_issn
from kb.catalog.imports.filepart import WHOLE_FILE, FilePart
from kb.catalog.imports.report import Problem, ReadResult, Severity
from kb.catalog.imports.runner import InputError
from kb.catalog.languages import iso639_1
from kb.catalog.models import HoldingStatus, RecordFormat

REQUIRED = ("id", "title")
# fmt: off
_ALIASES = {
    "记录号": "id", "题名": "title", "书名": "title", "副题名": "subtitle",
    "作者": "authors", "责任者": "authors", "author": "authors",
    "主题": "subjects", "主题词": "subjects", "subject": "subjects",
    "语种": "language", "出版年": "year", "出版社": "publisher", "出版者": "publisher",
    "类型": "format", "中图分类号": "clc", "分类号": "clc", "链接": "url", "摘要": "summary",
    "馆代码": "library", "索书号": "call_number", "馆藏地": "location", "条码": "barcode",
    "状态": "status", "应还日期": "due_date", "可外借": "loanable",
}
# fmt: on
_KNOWN = set(_ALIASES.values()) | {"isbn", "issn", "lcc", "ddc"}
_YES = {"yes", "y", "true", "1", "是", "可", "可外借"}
_NO = {"no", "n", "false", "0", "否", "不可", "不外借"}


def read_csv(
    path: Path, *, encoding: str = "utf-8-sig", part: FilePart = WHOLE_FILE
) -> Iterator[ReadResult]:
    """The records of ``part`` of the file (default: all of it); positions are line
    numbers of the whole file."""
    with path.open("rb") as stream:
        decode_problems: list[Problem] = []
        lines = _decoded_lines(stream, encoding, decode_problems, end=part.end)
        reader = csv.reader(lines)
        try:
            header = next(reader)
        except StopIteration:
            raise InputError(f"{path.name}: the file is empty") from None
        columns = [column_name(h) for h in header]
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise InputError(
                f"{path.name}: missing column(s) {', '.join(missing)}; the header has "
                f"{', '.join(h for h in header if h) or 'nothing'}"
            )
        unknown = sorted({h for h, c in zip(header, columns, strict=True) if c not in _KNOWN})
        if unknown and part.start == 0:
            yield ReadResult(
                "line 1",
                problems=[
                    Problem(
                        "line 1",
                        f"unknown column(s) ignored: {', '.join(unknown)}",
                        Severity.WARNING,
                    )
                ],
            )
        line_offset = 0
        if part.start:  # a later part: the header was read from the top, now go there
            decode_problems.clear()  # the first part reports the header's
            stream.seek(part.start)
            if encoding == "utf-8-sig":  # a byte order mark can only come first
                encoding = "utf-8"
            lines = _decoded_lines(
                stream, encoding, decode_problems, first_line=part.first_number, end=part.end
            )
            reader = csv.reader(lines)
            line_offset = part.first_number - 1
        current: ReadResult | None = None
        for row in reader:
            line = reader.line_num + line_offset
            position = f"line {line}"
            problems = decode_problems[:]
            decode_problems.clear()
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                problems.append(
                    Problem(
                        position,
                        f"{len(row)} values for {len(columns)} columns; "
                        "the row was read as far as it goes",
                        Severity.WARNING,
                    )
                )
            values = {c: (row[i].strip() if i < len(row) else "") for i, c in enumerate(columns)}
            record_id = values.get("id", "")
            if not record_id:
                yield ReadResult(
                    position,
                    problems=[*problems, Problem(position, "column 'id' is empty")],
                    offset=stream.tell(),
                )
                continue
            if current is not None and current.record and current.record.source_id == record_id:
                current.problems.extend(problems)
                _add_item(current.record, values, position, current.problems)
                continue
            if current is not None:
                yield current
            current = _start_record(values, position, problems)
            current.offset = stream.tell()
            if current.record is None:
                yield current
                current = None
        if current is not None:
            yield current


def _decoded_lines(
    stream: BinaryIO,
    encoding: str,
    problems: list[Problem],
    *,
    first_line: int = 1,
    end: int | None = None,
) -> Iterator[str]:
    """Lines from where ``stream`` is up to byte ``end`` (None: the end of the file)."""
    offset = stream.tell()
    for number, raw in enumerate(stream, start=first_line):
        if end is not None and offset >= end:
            return
        offset += len(raw)
        try:
            yield raw.decode(encoding)
        except UnicodeDecodeError as error:
            problems.append(
                Problem(
                    f"line {number}",
                    f"bytes that are not {encoding} at column {error.start + 1} replaced by U+FFFD",
                    Severity.WARNING,
                )
            )
            yield raw.decode(encoding, "replace")
        encoding = "utf-8" if encoding == "utf-8-sig" else encoding


def column_name(header: str) -> str:
    name = header.strip().lower().replace(" ", "_")
    return _ALIASES.get(header.strip(), _ALIASES.get(name, name))


def _split(value: str) -> list[str]:
    if not value:
        return []
    return [v for v in map(str.strip, value.replace("；", ";").split(";")) if v]


def _start_record(values: dict[str, str], position: str, problems: list[Problem]) -> ReadResult:
    record_id = values["id"]
    if not values.get("title"):
        problems.append(Problem(position, "column 'title' is empty", record_id=record_id))
        return ReadResult(position, problems=problems)

    def warn(reason: str) -> None:
        problems.append(Problem(position, reason, Severity.WARNING, record_id))

    bib = BibRecord(
        source="",
        source_id=record_id,
        title=values["title"],
        subtitle=values.get("subtitle") or None,
        authors=_split(values.get("authors", "")),
        subjects=_split(values.get("subjects", "")),
        clc=values.get("clc") or None,
        lcc=values.get("lcc") or None,
        ddc=values.get("ddc") or None,
        publisher=values.get("publisher") or None,
        summary=values.get("summary") or None,
    )
    for raw in _split(values.get("isbn", "")):
        if isbn := normalize_isbn(raw):
            bib.isbns.append(isbn)
        else:
            warn(f"isbn {raw!r} is not a valid ISBN; dropped")
    for raw in _split(values.get("issn", "")):
        if issn := normalize_issn(raw):
            bib.issns.append(issn)
        else:
            warn(f"issn {raw!r} is not a valid ISSN; dropped")
    if language := values.get("language"):
        bib.language = iso639_1(language)
        if not bib.language:
            warn(f"language {language!r} is not an ISO 639 code; left empty")
    if year := values.get("year"):
        if year.isdecimal() and 1000 <= int(year) <= 2100:
            bib.year = int(year)
        else:
            warn(f"year {year!r} is not a year; left empty")
    if kind := values.get("format"):
        try:
            bib.format = RecordFormat(kind.lower())
        except ValueError:
            warn(
                f"format {kind!r} is not one of {', '.join(f.value for f in RecordFormat)}; "
                "read as book"
            )
    bib.links = [{"url": u} for u in _split(values.get("url", ""))]
    _add_item(bib, values, position, problems)
    return ReadResult(position, record=bib, problems=problems)


def _add_item(
    bib: BibRecord, values: dict[str, str], position: str, problems: list[Problem]
) -> None:
    library = values.get("library")
    if not library:
        return

    def warn(reason: str) -> None:
        problems.append(Problem(position, reason, Severity.WARNING, bib.source_id))

    item = ItemData(
        library_code=library,
        call_number=values.get("call_number") or None,
        location=values.get("location") or None,
        barcode=values.get("barcode") or None,
    )
    if status := values.get("status"):
        try:
            item.status = HoldingStatus(status.lower().replace(" ", "_"))
        except ValueError:
            warn(
                f"status {status!r} is not one of {', '.join(s.value for s in HoldingStatus)}; "
                "read as available"
            )
    if due := values.get("due_date"):
        try:
            item.due_date = date.fromisoformat(due)
        except ValueError:
            warn(f"due_date {due!r} is not a date (YYYY-MM-DD); left empty")
    if loanable := values.get("loanable"):
        if loanable.lower() in _NO:
            item.loanable = False
        elif loanable.lower() not in _YES:
            warn(f"loanable {loanable!r} is neither yes nor no; read as yes")
    bib.items.append(item)
