"""Bundled data loaded into an empty database on first start."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.orm import Session

from kb.catalog.sample import load_sample
from kb.faq import load_bundled as load_bundled_faq
from kb.subjects import load_bundled as load_bundled_subjects


def load_bundled_data(session: Session) -> Iterator[str]:
    """Load the FAQ (and, when present, the sample catalog); yields progress lines."""
    added = load_bundled_faq(session)
    if added:
        yield f"Loaded {added} FAQ answers."
    librarians = load_bundled_subjects(session)
    if librarians:
        yield f"Loaded {librarians} subject librarians into the directory."
    sample = load_sample(session)
    if sample.loaded:
        yield (
            f"Loaded the sample catalog: {sample.records} records, {sample.holdings} copies "
            f"in {sample.libraries} member libraries (holdings simulated)."
        )
