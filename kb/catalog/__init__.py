"""Union catalog: records, holdings per member library, imports and search."""

from kb.catalog.models import (
    CatalogWord,
    HarvestState,
    Holding,
    HoldingStatus,
    Library,
    Record,
    RecordFormat,
    RecordIdentifier,
)

__all__ = [
    "CatalogWord",
    "HarvestState",
    "Holding",
    "HoldingStatus",
    "Library",
    "Record",
    "RecordFormat",
    "RecordIdentifier",
]
