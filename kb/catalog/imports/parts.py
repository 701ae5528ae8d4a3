"""Splitting one import file into parts that separate processes import at once.

A part starts where a record starts, so each part reads exactly the records a one-job
import would, and carries the line (CSV) or record (MARC) number it starts at, so its
positions are those of the whole file. Finding the places costs a few C-speed passes
over the bytes (counting quotes and newlines), not a parse of the file:

- CSV: at a line start outside quoted fields (an even number of quotes before it, as in
  RFC 4180, where a quote in a field is doubled), then on to the first row whose id
  differs from the row before, since the rows of one record are adjacent. A file with
  a quote inside an unquoted field (``12" disk``), which the CSV reader takes as a
  plain character, breaks the count: such a file stays one part.
- ISO 2709 MARC: right after a record terminator (0x1D).
- MARCXML: one part.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from kb.catalog.imports.csv import column_name
from kb.catalog.imports.filepart import WHOLE_FILE, FilePart
from kb.catalog.imports.marc import RECORD_TERMINATOR, count_records

# Below this a part is not worth a process of its own (~5,000 CSV records).
MIN_PART_BYTES = 1 << 20
_BLOCK = 8 << 20
_SEPARATORS = b',\r\n"'
# A quote followed by a field's content: an opening quote (after a separator) or a
# stray one inside an unquoted field (after anything else).
_QUOTE_BEFORE_TEXT = re.compile(rb'"(?=[^,\r\n"])')


def split_file(
    path: Path,
    file_format: str,
    parts: int,
    *,
    encoding: str = "utf-8-sig",
    min_part_bytes: int = MIN_PART_BYTES,
) -> list[FilePart]:
    """Up to ``parts`` parts of about equal size, in file order; one for a small file,
    MARCXML, or a CSV file whose quotes are not as RFC 4180 has them."""
    size = path.stat().st_size
    parts = min(parts, size // max(min_part_bytes, 1))
    if parts <= 1 or file_format not in ("csv", "marc"):
        return [WHOLE_FILE]
    with path.open("rb") as stream:
        if file_format == "marc":
            starts = _marc_starts(stream, size, parts)
            numbers = _marc_numbers(stream, starts)
        else:
            found = _csv_starts(stream, size, parts, encoding)
            if found is None:
                return [WHOLE_FILE]
            starts, numbers = found
    ends: list[int | None] = [*starts[1:], None]
    return [FilePart(s, e, n) for s, e, n in zip(starts, ends, numbers, strict=True)]


def _targets(begin: int, size: int, parts: int) -> list[int]:
    return [begin + (size - begin) * k // parts for k in range(1, parts)]


def _marc_starts(stream: BinaryIO, size: int, parts: int) -> list[int]:
    starts = [0]
    for target in _targets(0, size, parts):
        if target <= starts[-1]:
            continue
        stream.seek(target)
        at = target
        while block := stream.read(1 << 16):
            if (found := block.find(RECORD_TERMINATOR)) != -1:
                if at + found + 1 < size:
                    starts.append(at + found + 1)
                break
            at += len(block)
    return starts


def _marc_numbers(stream: BinaryIO, starts: list[int]) -> list[int]:
    """The number of each part's first record: records are counted exactly as the
    reader counts them (separators between records are not records)."""
    numbers = [1]
    for start, end in zip(starts, starts[1:], strict=False):
        stream.seek(start)
        numbers.append(numbers[-1] + count_records(stream, start, end))
    return numbers


def _csv_starts(
    stream: BinaryIO, size: int, parts: int, encoding: str
) -> tuple[list[int], list[int]] | None:
    header_end, id_column = _csv_header(stream, encoding)
    if id_column is None:
        return None  # one job reports what is wrong with the header
    starts = [0]
    scanned = header_end  # an even number of quotes before here
    for target in _targets(header_end, size, parts):
        if target <= scanned:
            continue
        quotes, _, _ = _scan(stream, scanned, target)
        start = _record_start(stream, target, quotes % 2 == 1, id_column, encoding)
        if start is None or start >= size:
            break
        starts.append(start)
        scanned = start
    numbers = [1]
    lines = 1
    for begin, end in zip([0, *starts[1:]], starts[1:], strict=False):
        _, newlines, plain = _scan(stream, begin, end)
        if not plain:
            return None
        lines += newlines
        numbers.append(lines)
    return starts, numbers


def _csv_header(stream: BinaryIO, encoding: str) -> tuple[int, int | None]:
    """(byte offset after the header row, index of the id column or None)."""
    stream.seek(0)
    lines = _Lines(stream, 0, encoding)
    try:
        header = next(csv.reader(lines))
    except (StopIteration, csv.Error):
        return lines.offset, None
    columns = [column_name(h) for h in header]
    return lines.offset, columns.index("id") if "id" in columns else None


def _record_start(
    stream: BinaryIO, target: int, inside_quotes: bool, id_column: int, encoding: str
) -> int | None:
    """The first record start at or after ``target``: a line start outside quotes,
    then the first row whose id is not the id of the row before it."""
    stream.seek(target)
    at = target
    if target and _byte_before(stream, target) != b"\n":
        line = stream.readline()  # the rest of a line that began before the target
        inside_quotes ^= line.count(b'"') % 2 == 1
        at += len(line)
    while inside_quotes:
        line = stream.readline()
        if not line:
            return None
        inside_quotes ^= line.count(b'"') % 2 == 1
        at += len(line)
    lines = _Lines(stream, at, encoding)
    reader = csv.reader(lines)
    previous = None
    while True:
        row_start = lines.offset
        try:
            row = next(reader)
        except (StopIteration, csv.Error):
            return None
        record_id = row[id_column].strip() if id_column < len(row) else ""
        if not record_id:
            continue  # a blank row or one without id does not start a record
        if previous is not None and record_id != previous:
            return row_start
        previous = record_id


def _byte_before(stream: BinaryIO, offset: int) -> bytes:
    stream.seek(offset - 1)
    return stream.read(1)


def _scan(stream: BinaryIO, start: int, end: int) -> tuple[int, int, bool]:
    """(quotes, newlines, plain) in bytes ``start`` to ``end``; plain is False when a
    quote stands inside an unquoted field (text on both sides of it)."""
    quotes = newlines = 0
    plain = True
    at = start
    while at < end:
        length = min(_BLOCK, end - at)
        lead = 1 if at else 0  # one byte of context either side
        stream.seek(at - lead)
        data = stream.read(lead + length + 1)
        body_end = lead + length
        quotes += data.count(b'"', lead, body_end)
        newlines += data.count(b"\n", lead, body_end)
        if plain:
            for match in _QUOTE_BEFORE_TEXT.finditer(data, lead, min(body_end + 1, len(data))):
                quote = match.start()
                if quote < body_end and quote > 0 and data[quote - 1] not in _SEPARATORS:
                    plain = False
                    break
        at += length
    return quotes, newlines, plain


class _Lines:
    """Decoded lines from ``offset`` on, keeping count of the bytes read."""

    def __init__(self, stream: BinaryIO, offset: int, encoding: str) -> None:
        self.stream = stream
        self.offset = offset
        self.encoding = encoding

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = self.stream.readline()
        if not line:
            raise StopIteration
        self.offset += len(line)
        text = line.decode(self.encoding, "replace")
        self.encoding = "utf-8" if self.encoding == "utf-8-sig" else self.encoding
        return text
