"""Records as every importer produces them, before they are stored."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kb.catalog.models import HoldingStatus, RecordFormat

# What ``json.dumps(sort_keys=True, default=str, ensure_ascii=False)`` does, without
# building an encoder for every record. Changing the output would make every stored
# digest stale, so a re-import would rewrite the whole catalog once.
_HASH_JSON = json.JSONEncoder(sort_keys=True, default=str, ensure_ascii=False).encode


@dataclass
class ItemData:
    """One copy in a member library."""

    library_code: str | None
    call_number: str | None = None
    location: str | None = None
    status: HoldingStatus = HoldingStatus.AVAILABLE
    due_date: date | None = None
    loanable: bool = True
    barcode: str | None = None


@dataclass
class BibRecord:
    source: str
    source_id: str
    title: str
    subtitle: str | None = None
    # Other titles a patron may search by: romanised forms, uniform and varying titles.
    variant_titles: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    clc: str | None = None
    lcc: str | None = None
    ddc: str | None = None
    isbns: list[str] = field(default_factory=list)  # ISBN-13, normalised
    issns: list[str] = field(default_factory=list)  # NNNN-NNNC
    other_ids: list[tuple[str, str]] = field(default_factory=list)  # (scheme, value): oclc, doi
    language: str | None = None  # ISO 639-1
    year: int | None = None
    publisher: str | None = None
    format: RecordFormat = RecordFormat.BOOK
    links: list[dict[str, Any]] = field(default_factory=list)  # [{"url", "label"}]
    summary: str | None = None
    items: list[ItemData] = field(default_factory=list)

    def content_hash(self) -> str:
        data = dict(vars(self), items=[vars(item) for item in self.items])
        data.pop("source", None)
        payload = _HASH_JSON(data)
        return hashlib.md5(payload.encode("utf-8"), usedforsecurity=False).hexdigest()
