"""Two imports writing at once on PostgreSQL: the one that took its ids first may commit
last. The alerts worker's cursors must not move past its records meanwhile."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.alerts.items import collect_catalog
from kb.alerts.models import AlertItem
from kb.catalog.models import Record
from kb.catalog.store import known_library_codes, store_batch
from kb.db import sessionmaker_for
from tests.kb.alerts.conftest import bib


# SQLite has one writer at a time: its ids commit in order.
@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_records_committed_out_of_id_order_are_all_collected(
    session: Session, libraries: None, backend: str, db_url: str
) -> None:
    codes = known_library_codes(session)
    make = sessionmaker_for(db_url)
    first, second, worker = make(), make(), make()
    try:
        # The first import takes its ids and is still writing...
        store_batch(first, [bib("a1", "人工智能导论"), bib("a2", "机器学习")], library_codes=codes)
        # ...while the second takes later ids and commits.
        store_batch(second, [bib("b1", "深度学习")], library_codes=codes)
        second.commit()

        collected: list[int] = []
        collecting = threading.Thread(target=lambda: collected.append(collect_catalog(worker)))
        collecting.start()
        collecting.join(timeout=1.0)
        # The worker waits for the first import rather than reading past its ids.
        assert collecting.is_alive()
        first.commit()
        collecting.join(timeout=10)
        assert not collecting.is_alive()

        collect_catalog(worker)  # a later run finds nothing left behind either
        records = {r.id for r in session.scalars(select(Record))}
        keys = set(session.scalars(select(AlertItem.source_key)))
        assert len(records) == 3
        assert {f"record:{r}" for r in records} <= keys
    finally:
        for other in (first, second, worker):
            other.rollback()
            other.close()
