"""What a search hands back: hits with per-library availability, and their wording in
Chinese and English for result cards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from kb.catalog.models import Holding, HoldingStatus, Library, Record, RecordFormat
from kb.catalog.search.query import ParsedQuery


@dataclass(frozen=True)
class SearchFilters:
    language: str | None = None  # ISO 639-1
    year_from: int | None = None
    year_to: int | None = None
    formats: tuple[RecordFormat, ...] = ()
    libraries: tuple[str, ...] = ()  # member library codes
    available_now: bool = False  # at least one copy on the shelf (in those libraries)


@dataclass(frozen=True)
class LibraryInfo:
    code: str
    name_zh: str
    name_en: str
    short_zh: str
    short_en: str

    @classmethod
    def of(cls, library: Library) -> LibraryInfo:
        return cls(
            library.code,
            library.name_zh,
            library.name_en,
            library.short("zh"),
            library.short("en"),
        )

    def short(self, language: str) -> str:
        return self.short_zh if language == "zh" else self.short_en

    def name(self, language: str) -> str:
        return self.name_zh if language == "zh" else self.name_en


@dataclass(frozen=True)
class LibraryAvailability:
    library: LibraryInfo
    total: int
    available: int  # on the shelf now
    loanable_available: int  # on the shelf and may be taken home
    next_due: date | None  # earliest due date of a copy on loan

    def describe(self, language: str) -> str:
        if language == "zh":
            text = f"{self.library.short_zh}：{self.total} 册中 {self.available} 册可借"
            if not self.available and self.next_due:
                text += f"（最早 {self.next_due.isoformat()} 归还）"
            return text
        copies = "copy" if self.total == 1 else "copies"
        text = f"{self.available} of {self.total} {copies} available at {self.library.short_en}"
        if not self.available and self.next_due:
            text += f" (due back {self.next_due.isoformat()})"
        return text


def summarize_availability(holdings: Sequence[Holding]) -> list[LibraryAvailability]:
    """Per member library, libraries with copies on the shelf first."""
    grouped: dict[str, list[Holding]] = {}
    for holding in holdings:
        grouped.setdefault(holding.library_code, []).append(holding)
    summary = []
    for items in grouped.values():
        on_shelf = [h for h in items if h.status == HoldingStatus.AVAILABLE]
        dues = [h.due_date for h in items if h.status == HoldingStatus.ON_LOAN and h.due_date]
        summary.append(
            LibraryAvailability(
                library=LibraryInfo.of(items[0].library),
                total=len(items),
                available=len(on_shelf),
                loanable_available=sum(1 for h in on_shelf if h.loanable),
                next_due=min(dues) if dues else None,
            )
        )
    summary.sort(key=lambda a: (a.available == 0, a.library.code))
    return summary


def describe_availability(summary: Sequence[LibraryAvailability], language: str) -> str:
    """One line for a card: "2 of 3 copies available at PKU; 0 of 1 copy available at THU"."""
    if not summary:
        return "本联盟成员馆暂无馆藏" if language == "zh" else "No copies in member libraries"
    separator = "；" if language == "zh" else "; "
    return separator.join(a.describe(language) for a in summary)


@dataclass(frozen=True)
class SearchHit:
    record: Record
    score: float
    availability: list[LibraryAvailability]
    matched_identifier: bool = False  # found by its ISBN/ISSN

    def availability_text(self, language: str) -> str:
        return describe_availability(self.availability, language)


@dataclass(frozen=True)
class SearchPage:
    query: ParsedQuery
    filters: SearchFilters
    hits: list[SearchHit]
    total: int
    total_is_lower_bound: bool  # more than ``total`` matched; counting stopped there
    page: int
    page_size: int
    # Format words in the query ("ebook") found nothing, so they were not applied.
    ignored_formats: tuple[RecordFormat, ...] = field(default=())

    @property
    def has_more(self) -> bool:
        if len(self.hits) < self.page_size:
            return False
        return self.total_is_lower_bound or self.page * self.page_size < self.total


@dataclass(frozen=True)
class ItemView:
    call_number: str | None
    location: str | None
    status: HoldingStatus
    due_date: date | None
    loanable: bool
    barcode: str | None


@dataclass(frozen=True)
class LibraryHoldings:
    library: LibraryInfo
    items: list[ItemView]

    @property
    def available(self) -> int:
        return sum(1 for i in self.items if i.status == HoldingStatus.AVAILABLE)
