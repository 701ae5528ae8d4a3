"""Importing catalog records: MARC 21/UNIMARC (ISO 2709), MARCXML, CSV, OAI-PMH.

Every import is idempotent (records are keyed by source and the source's own id),
commits in batches, and returns a summary with every bad record's position and reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from enum import StrEnum
from functools import partial
from pathlib import Path

from sqlalchemy.orm import Session

from kb.catalog.imports import readahead
from kb.catalog.imports.csv import read_csv
from kb.catalog.imports.filepart import WHOLE_FILE, FilePart
from kb.catalog.imports.marc import read_marc
from kb.catalog.imports.marcxml import read_marcxml
from kb.catalog.imports.report import ImportSummary, Problem, ReadResult, Severity
from kb.catalog.imports.runner import InputError, Progress, StoreFailed, run_import
from kb.catalog.store import ConcurrentJobs

# Below this, starting a second process costs more than it saves.
READ_AHEAD_BYTES = 4 << 20


class FileFormat(StrEnum):
    MARC = "marc"
    MARCXML = "marcxml"
    CSV = "csv"


# MARC costs ~150 µs a record to parse, so a second process parsing it pays. CSV costs
# ~20 µs, less than handing each record across (~40 µs of pickling and start-up in all).
_SLOW_TO_PARSE = (FileFormat.MARC, FileFormat.MARCXML)


def detect_format(path: Path) -> FileFormat:
    """By content first (exports often carry the wrong extension), then by name."""
    with path.open("rb") as stream:
        head = stream.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return FileFormat.MARCXML
    if head[:5].isdigit():
        return FileFormat.MARC
    if path.suffix.lower() in (".csv", ".tsv", ".txt"):
        return FileFormat.CSV
    if path.suffix.lower() in (".xml",):
        return FileFormat.MARCXML
    return FileFormat.MARC


def read_file(
    path: Path,
    file_format: FileFormat,
    *,
    encoding: str = "utf-8-sig",
    part: FilePart = WHOLE_FILE,
) -> Iterator[ReadResult]:
    if file_format == FileFormat.CSV:
        return read_csv(path, encoding=encoding, part=part)
    if file_format == FileFormat.MARCXML:
        return read_marcxml(path)  # never split (see parts.py)
    return read_marc(path, part=part)


def import_file(
    session: Session,
    path: Path,
    *,
    source: str | None = None,
    file_format: FileFormat | None = None,
    default_library: str | None = None,
    encoding: str = "utf-8-sig",
    progress: Progress | None = None,
    read_ahead: bool | None = None,
    part: FilePart = WHOLE_FILE,
    concurrent: ConcurrentJobs | None = None,
) -> ImportSummary:
    """Import one file. ``source`` names where the records come from (default: the
    format, e.g. "marc"); the same record from the same source updates, never duplicates.
    ``default_library`` is the member library for holdings that name none.
    ``read_ahead`` parses in a second process (default: for large MARC and MARCXML
    files, given two cores or more). When the database refuses a batch, the summary
    counts what the batches before it stored and ``aborted`` says which records were
    refused. ``part`` imports only that part of the file (one of several jobs, see
    jobs.py) and ``concurrent`` tells this job's writes from the other jobs' (see
    store.py)."""
    file_format = file_format or detect_format(path)
    source = source or str(file_format)
    try:
        if read_ahead is None:
            read_ahead = (
                file_format in _SLOW_TO_PARSE
                and (part.end or path.stat().st_size) - part.start >= READ_AHEAD_BYTES
                and (os.cpu_count() or 1) > 1
            )
        results = (
            readahead.read_ahead(
                partial(read_file, path, file_format, encoding=encoding, part=part)
            )
            if read_ahead
            else read_file(path, file_format, encoding=encoding, part=part)
        )
        return run_import(
            session,
            results,
            source=source,
            default_library=default_library,
            progress=progress,
            concurrent=concurrent,
        )
    except StoreFailed as error:
        session.rollback()
        error.summary.aborted = f"{path}: {error}"
        return error.summary
    except OSError as error:
        summary = ImportSummary(source=source)
        summary.aborted = f"{path}: {error.strerror or error}"
        return summary


__all__ = [
    "FileFormat",
    "ImportSummary",
    "InputError",
    "Problem",
    "Severity",
    "detect_format",
    "import_file",
]
