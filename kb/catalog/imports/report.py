"""What an import read, stored and refused, with the position and reason of each problem."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from kb.catalog.bibdata import BibRecord


class Severity(StrEnum):
    ERROR = "error"  # the record was not stored
    WARNING = "warning"  # the record was stored; something in it was repaired or dropped


@dataclass(frozen=True)
class Problem:
    position: str  # "record 3 (byte 1,234)", "line 7", "page 2, record 5"
    reason: str
    severity: Severity = Severity.ERROR
    record_id: str | None = None

    def __str__(self) -> str:
        label = f" [{self.record_id}]" if self.record_id else ""
        return f"{self.severity}: {self.position}{label}: {self.reason}"


@dataclass
class ReadResult:
    """One unit a reader got out of its input: a record (maybe with warnings), a record
    to delete, or only problems (a bad record). ``offset`` is how far into the input
    the reader is, for progress bars."""

    position: str
    record: BibRecord | None = None
    problems: list[Problem] = field(default_factory=list)
    offset: int | None = None
    deleted_id: str | None = None  # source_id the source says was deleted


@dataclass
class ImportSummary:
    source: str
    read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped: int = 0  # bad records that were not stored
    problems: list[Problem] = field(default_factory=list)
    # Set when the input itself failed part-way (unreadable file, broken XML, a harvest
    # error): what came before is stored, the rest was not read.
    aborted: str | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == Severity.WARNING]

    def merge(self, other: ImportSummary) -> None:
        self.read += other.read
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.deleted += other.deleted
        self.skipped += other.skipped
        self.problems.extend(other.problems)
        self.aborted = self.aborted or other.aborted
