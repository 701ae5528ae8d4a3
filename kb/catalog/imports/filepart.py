"""Which bytes of an import file a reader reads (all of them, or one job's part)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FilePart:
    """Bytes ``start`` to ``end`` (None: the end of the file) of an import file, both at
    record starts. ``first_number`` is the line number (CSV) or the record number (MARC)
    at ``start``, so positions are those of the whole file; the part at ``start`` 0 also
    reports the CSV header's problems."""

    start: int = 0
    end: int | None = None
    first_number: int = 1


WHOLE_FILE = FilePart()
