"""The bundled sample catalog that ``refdesk up`` loads into an empty catalog.

Bibliographic data is real: a hand-curated list of well-known Chinese and English books
(kb/data/catalog/core_*.txt) and real records taken from public MARC, MARCXML, SRU and
OAI-PMH test files (kb/data/catalog/fixture_records.jsonl.gz, built by
scripts/build-sample-catalog). Holdings are simulated: which member libraries hold a
book, call numbers, locations, loans and due dates are generated from a fixed seed per
record, so every load gives the same catalog.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.catalog.bibdata import BibRecord, ItemData
from kb.catalog.identifiers import normalize_isbn
from kb.catalog.libraries import SAMPLE_LIBRARIES, ensure_libraries
from kb.catalog.models import HoldingStatus, Record, RecordFormat
from kb.catalog.store import known_library_codes, store_batch

DATA = Path(__file__).resolve().parent.parent / "data" / "catalog"
SOURCE = "sample"
CORE_FILES = (("zh", DATA / "core_zh.txt"), ("en", DATA / "core_en.txt"))
FIXTURE_RECORDS = DATA / "fixture_records.jsonl.gz"

# Simulated shelving: (location, loanable) per member library.
# fmt: off
_LOCATIONS = {
    "zh": [("中文图书借阅区", True), ("中文社科书库", True), ("中文科技书库", True),
           ("密集书库", True), ("工具书阅览室", False)],
    "en": [("外文图书借阅区", True), ("外文书库", True), ("密集书库", True),
           ("外文工具书阅览室", False)],
    "journal": [("期刊阅览室", False), ("过刊库", False)],
}
# fmt: on


@dataclass
class SampleSummary:
    loaded: bool
    records: int = 0
    holdings: int = 0
    libraries: int = 0
    reason: str | None = None  # why nothing was loaded


def load_sample(session: Session, *, today: date | None = None) -> SampleSummary:
    """Load the sample into an empty catalog (the first start); a catalog that already
    has records is left alone."""
    if session.scalar(select(func.count()).select_from(Record)):
        return SampleSummary(False, reason="the catalog already has records")
    libraries = ensure_libraries(session, SAMPLE_LIBRARIES)
    codes = known_library_codes(session)
    today = today or date.today()
    summary = SampleSummary(True, libraries=libraries)
    batch: list[BibRecord] = []
    for bib in sample_records():
        bib.items = simulated_items(bib, today)
        summary.holdings += len(bib.items)
        batch.append(bib)
        if len(batch) == 1000:
            summary.records += store_batch(session, batch, library_codes=codes).added
            batch.clear()
    summary.records += store_batch(session, batch, library_codes=codes).added
    session.commit()
    return summary


def sample_records() -> Iterator[BibRecord]:
    for language, path in CORE_FILES:
        yield from _core_records(language, path)
    if FIXTURE_RECORDS.exists():
        with gzip.open(FIXTURE_RECORDS, "rt", encoding="utf-8") as stream:
            for line in stream:
                data = json.loads(line)
                data.pop("origin", None)
                data["format"] = RecordFormat(data["format"])
                data["other_ids"] = [tuple(pair) for pair in data.get("other_ids", [])]
                yield BibRecord(**data, source=SOURCE)


def _core_records(language: str, path: Path) -> Iterator[BibRecord]:
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.split("|")]
        title, subtitle, authors, publisher, year, clc, subjects, kind, isbn = (cells + [""] * 9)[
            :9
        ]
        key = f"{title}|{authors}|{year}|{kind}"
        yield BibRecord(
            source=SOURCE,
            source_id=f"core-{language}-" + hashlib.sha1(key.encode()).hexdigest()[:12],
            title=title,
            subtitle=subtitle or None,
            authors=[a.strip() for a in authors.split(";") if a.strip()],
            subjects=[s.strip() for s in subjects.split(";") if s.strip()],
            clc=clc or None,
            isbns=[i for i in [normalize_isbn(isbn)] if i] if isbn else [],
            language=language,
            year=int(year) if year.isdecimal() else None,
            publisher=publisher or None,
            format=RecordFormat(kind or "book"),
        )


def simulated_items(bib: BibRecord, today: date) -> list[ItemData]:
    """Plausible copies in the sample member libraries, the same on every load."""
    if bib.format in (RecordFormat.EBOOK, RecordFormat.ARTICLE):
        return []
    rng = random.Random(hashlib.sha1(bib.source_id.encode()).digest())
    core = bib.source_id.startswith("core-")
    codes = [lib.code for lib in SAMPLE_LIBRARIES]
    holders = rng.sample(codes, rng.randint(2, 5) if core else rng.randint(1, 2))
    shelf = (
        "journal"
        if bib.format == RecordFormat.JOURNAL
        else ("zh" if bib.language == "zh" else "en")
    )
    cutter = rng.randint(1, 999)
    base = bib.clc or bib.lcc or "Z"
    items = []
    for code in sorted(holders):
        location, loanable = rng.choice(_LOCATIONS[shelf])
        for copy in range(1, (rng.randint(1, 3) if core else 1) + 1):
            status = rng.choices(
                list(HoldingStatus), weights=(65, 25, 5, 5) if loanable else (90, 0, 5, 5)
            )[0]
            items.append(
                ItemData(
                    library_code=code,
                    call_number=f"{base}/{cutter}" + (f":{copy}" if copy > 1 else ""),
                    location=location,
                    status=status,
                    due_date=today + timedelta(days=rng.randint(1, 60))
                    if status == HoldingStatus.ON_LOAN
                    else None,
                    loanable=loanable,
                    barcode=f"{code}{rng.randint(10**7, 10**8 - 1)}",
                )
            )
    return items
