"""MARC 21 (and UNIMARC/CNMARC) in ISO 2709 transmission format.

Records are split on the record terminator rather than trusted to their leader's
length, so one record with a wrong length or a broken directory is reported and the
next one is still read. Text is decoded field by field (UTF-8 or MARC-8 per leader/09),
so an undecodable byte is reported with its field and kept as U+FFFD, not the end of
the record.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pymarc
from pymarc.marc8 import marc8_to_unicode

from kb.catalog.imports.filepart import WHOLE_FILE, FilePart
from kb.catalog.imports.marcmap import bib_from_marc
from kb.catalog.imports.report import Problem, ReadResult, Severity

RECORD_TERMINATOR = b"\x1d"
LEADER_LENGTH = 24
_BLOCK = 1 << 20
_STRUCTURE_ERRORS = {
    "BaseAddressNotFound": "leader positions 12-16 (base address of data) are zero",
    "BaseAddressInvalid": "leader positions 12-16 (base address of data) point past the record",
    "RecordDirectoryInvalid": "the directory is not a whole number of 12-byte entries",
    "NoFieldsFound": "the record has no fields",
    "RecordLeaderInvalid": "the leader is not 24 bytes",
    "TruncatedRecord": "the record is shorter than its leader says",
}


def read_marc(path: Path, *, part: FilePart = WHOLE_FILE) -> Iterator[ReadResult]:
    """The records of ``part`` of the file (default: all of it); record numbers and
    byte offsets are those of the whole file."""
    with path.open("rb") as stream:
        stream.seek(part.start)
        yield from read_marc_stream(
            stream, start=part.start, end=part.end, first_number=part.first_number
        )


def read_marc_stream(
    stream: BinaryIO, *, start: int = 0, end: int | None = None, first_number: int = 1
) -> Iterator[ReadResult]:
    """Records from ``stream`` (positioned at byte ``start``) up to byte ``end``."""
    chunks = _chunks(stream, start, end)
    for number, (offset, chunk, terminated) in enumerate(chunks, start=first_number):
        position = f"record {number} (byte {offset:,})"
        end_offset = offset + len(chunk) + 1
        if not terminated:
            yield ReadResult(
                position,
                problems=[
                    Problem(position, "truncated: the file ends before the record terminator")
                ],
                offset=end_offset,
            )
            continue
        yield _read_record(chunk, position, end_offset)


def count_records(stream: BinaryIO, start: int, end: int) -> int:
    """How many records the reader finds between bytes ``start`` and ``end``."""
    return sum(1 for _ in _chunks(stream, start, end))


def _chunks(
    stream: BinaryIO, start: int = 0, end: int | None = None
) -> Iterator[tuple[int, bytes, bool]]:
    """(byte offset, record bytes without terminator, terminated?) for each record."""
    buffer = b""
    buffer_offset = start
    remaining = end - start if end is not None else None
    while True:
        block = stream.read(_BLOCK if remaining is None else min(_BLOCK, remaining))
        if not block:
            break
        if remaining is not None:
            remaining -= len(block)
        buffer += block
        begin = 0
        while (stop := buffer.find(RECORD_TERMINATOR, begin)) != -1:
            chunk, skipped = _strip_separators(buffer[begin:stop])
            if chunk:
                yield buffer_offset + begin + skipped, chunk, True
            begin = stop + 1
        buffer_offset += begin
        buffer = buffer[begin:]
    chunk, skipped = _strip_separators(buffer)
    if chunk:
        yield buffer_offset + skipped, chunk, False


def _strip_separators(chunk: bytes) -> tuple[bytes, int]:
    """Line breaks, spaces or NULs some exports put between records are not data."""
    stripped = chunk.lstrip(b"\r\n\t \x00")
    return stripped.rstrip(b"\r\n\x00") if stripped else b"", len(chunk) - len(stripped)


def _read_record(chunk: bytes, position: str, offset: int) -> ReadResult:
    problems: list[Problem] = []
    if len(chunk) < LEADER_LENGTH:
        reason = f"only {len(chunk)} bytes, shorter than a 24-byte leader"
        return ReadResult(position, problems=[Problem(position, reason)], offset=offset)
    leader = chunk[:LEADER_LENGTH].decode("ascii", "replace")
    data = chunk + RECORD_TERMINATOR
    declared = leader[:5]
    if not declared.isdigit():
        problems.append(_warn(position, f"leader/00-04 record length {declared!r} is not a number"))
    elif int(declared) != len(data):
        problems.append(
            _warn(position, f"leader/00-04 says {int(declared)} bytes, the record has {len(data)}")
        )
    if not leader[12:17].isdigit():
        reason = f"leader/12-16 base address {leader[12:17]!r} is not a number"
        return ReadResult(position, problems=[*problems, Problem(position, reason)], offset=offset)
    utf8 = leader[9] == "a"
    if not utf8 and _looks_like_utf8(chunk[LEADER_LENGTH:]):
        utf8 = True
        problems.append(
            _warn(position, "leader/09 says MARC-8 but the text is UTF-8; read as UTF-8")
        )
    # pymarc trusts the length; the terminator already told us where the record ends.
    data = f"{len(data):05d}".encode() + data[5:] if len(data) < 100_000 else data
    try:
        record = _parse(data, utf8, position, problems)
    except Exception as error:  # pymarc raises many kinds; each means a broken record
        problems.append(Problem(position, _structure_error(error)))
        return ReadResult(position, problems=problems, offset=offset)
    bib, map_problems = bib_from_marc(record, position)
    problems.extend(map_problems)
    return ReadResult(position, record=bib, problems=problems, offset=offset)


def _structure_error(error: Exception) -> str:
    if reason := _STRUCTURE_ERRORS.get(type(error).__name__):
        return reason
    if isinstance(error, UnicodeDecodeError):
        return (
            f"the directory holds a non-ASCII byte at {LEADER_LENGTH + error.start}: "
            "the base address (leader/12-16) or the directory is corrupt"
        )
    if isinstance(error, ValueError):
        return f"a directory entry is not numeric ({error}): the directory is corrupt"
    return f"unreadable record structure: {error or type(error).__name__}"


class _PymarcNotes:
    """Collects what pymarc logs or warns about a record (bad indicators, subfield codes)."""

    def __enter__(self) -> _PymarcNotes:
        self.messages: list[str] = []
        self._handler = _ListHandler(self.messages)
        self._logger = logging.getLogger("pymarc")
        self._logger.addHandler(self._handler)
        self._propagate, self._logger.propagate = self._logger.propagate, False
        self._warnings = warnings.catch_warnings(record=True)
        self._caught = self._warnings.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc: Any) -> None:
        self._warnings.__exit__(*exc)
        self._logger.removeHandler(self._handler)
        self._logger.propagate = self._propagate
        self.messages.extend(f"{w.category.__name__}: {str(w.message)[:120]}" for w in self._caught)


class _ListHandler(logging.Handler):
    def __init__(self, messages: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.messages = messages

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage()[:160])


def _warn(position: str, reason: str) -> Problem:
    return Problem(position, reason, Severity.WARNING)


def _parse(data: bytes, utf8: bool, position: str, problems: list[Problem]) -> pymarc.Record:
    """Decode in one go when the text is clean; otherwise field by field, so that each
    undecodable byte is reported with its field and becomes U+FFFD."""
    complaints = io.StringIO()  # pymarc's MARC-8 decoder writes its complaints to stderr
    try:
        with _PymarcNotes() as notes, contextlib.redirect_stderr(complaints):
            record = pymarc.Record(data, force_utf8=utf8, utf8_handling="strict")
    except UnicodeDecodeError:
        record = None
    if record is not None and not complaints.getvalue():
        problems.extend(_warn(position, note) for note in notes.messages)
        return record
    with _PymarcNotes() as notes:
        raw = pymarc.Record(data, to_unicode=False)
    problems.extend(_warn(position, note) for note in notes.messages)
    return _decode(raw, utf8, position, problems)


def _decode(
    raw: pymarc.Record, utf8: bool, position: str, problems: list[Problem]
) -> pymarc.Record:
    record = pymarc.Record(leader=str(raw.leader), to_unicode=True, force_utf8=True)
    for field in raw.fields:
        if field.is_control_field():
            text, reason = _decode_bytes(field.data or b"", utf8)
            if reason:
                problems.append(_warn(position, f"field {field.tag}: {reason}"))
            record.add_field(pymarc.Field(tag=field.tag, data=text))
            continue
        subfields = []
        for sub in field.subfields:
            text, reason = _decode_bytes(sub.value, utf8)
            if reason:
                problems.append(_warn(position, f"field {field.tag} ${sub.code}: {reason}"))
            subfields.append(pymarc.Subfield(code=sub.code, value=text))
        record.add_field(
            pymarc.Field(tag=field.tag, indicators=field.indicators, subfields=subfields)
        )
    return record


def _looks_like_utf8(blob: bytes) -> bool:
    if blob.isascii() or b"\x1b" in blob:
        return False
    try:
        blob.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode_bytes(value: bytes | str, utf8: bool) -> tuple[str, str | None]:
    if isinstance(value, str):
        return value, None
    if value.isascii() and b"\x1b" not in value:
        return value.decode("ascii"), None
    if utf8:
        try:
            return value.decode("utf-8"), None
        except UnicodeDecodeError as error:
            bad = value[error.start : error.end].hex(" ")
            reason = f"invalid UTF-8 (bytes {bad} at {error.start}) replaced by U+FFFD"
            return value.decode("utf-8", "replace"), reason
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            text = marc8_to_unicode(value)
    except UnicodeDecodeError:
        return value.decode("latin-1"), "invalid MARC-8 multibyte sequence; kept as Latin-1"
    if errors.getvalue():
        first = errors.getvalue().splitlines()[0]
        return text, f"invalid MARC-8 ({first}); unknown characters became spaces"
    return text, None
