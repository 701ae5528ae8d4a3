"""Helpers for alert tests: patrons, subscriptions, imports through the real importer."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from sqlalchemy.orm import Session

from kb.alerts.items import collect_and_match
from kb.alerts.models import Subscriber
from kb.alerts.subscriptions import add_topics, configure
from kb.alerts.vocabulary import vocabulary
from kb.catalog.bibdata import BibRecord, ItemData
from kb.catalog.imports.report import ReadResult
from kb.catalog.imports.runner import run_import
from kb.catalog.models import Library
from kb.patrons.models import Patron


def new_patron(session: Session, language: str = "zh", email: str | None = None) -> Patron:
    patron = Patron(language=language, email=email)
    session.add(patron)
    session.flush()
    return patron


def subscribe(
    session: Session,
    words: str,
    *,
    language: str = "zh",
    frequency: str = "instant",
    **settings: str,
) -> Subscriber:
    patron = new_patron(session, language, settings.pop("email", None))
    subscriber, added = add_topics(
        session, patron.id, vocabulary().understand(words), words=words, language=language
    )
    assert added, f"nothing understood in {words!r}"
    configure(session, subscriber, frequency=frequency, **settings)
    session.commit()
    return subscriber


def bib(
    source_id: str,
    title: str,
    *,
    clc: str | None = None,
    subjects: Iterable[str] = (),
    library: str | None = "PKU",
    **kw: object,
) -> BibRecord:
    return BibRecord(
        source="test",
        source_id=source_id,
        title=title,
        clc=clc,
        subjects=list(subjects),
        items=[ItemData(library_code=library)] if library else [],
        **kw,  # type: ignore[arg-type]
    )


def import_only(session: Session, records: list[BibRecord]) -> None:
    """An import through the real importer (it leaves alerts to the alerts worker)."""
    results = [ReadResult(position=str(i), offset=i, record=r) for i, r in enumerate(records)]
    run_import(session, results, source="test")


def import_records(session: Session, records: list[BibRecord]) -> None:
    """An import, then the alerts worker's matching run."""
    import_only(session, records)
    collect_and_match(session)


@pytest.fixture
def libraries(session: Session) -> None:
    session.add(Library(code="PKU", name_zh="北京大学图书馆", name_en="Peking University Library"))
    session.add(
        Library(
            code="BNU", name_zh="北京师范大学图书馆", name_en="Beijing Normal University Library"
        )
    )
    session.commit()
