"""Merging patrons when a table allows one row per patron and thing."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table, UniqueConstraint, select

from kb.patrons import Patron
from kb.patrons.merge import _move_rows, _referencing_columns


def test_every_table_pointing_at_patrons_is_found():
    names = {table.name for table, _ in _referencing_columns()}
    assert {
        "channel_identities",
        "conversations",
        "reference_questions",
        "outbound_messages",
        "delivery_requests",
        "patron_link_codes",
    } <= names


def test_clashing_rows_are_dropped_and_the_rest_move(session, backend):
    meta = MetaData()
    subs = Table(
        "test_subscriptions",
        meta,
        Column("id", Integer, primary_key=True),
        Column("patron_id", ForeignKey("patrons.id"), nullable=False),
        Column("item", Integer, nullable=False),
        UniqueConstraint("patron_id", "item"),
    )
    Table("patrons", meta, Column("id", Integer, primary_key=True))
    subs.create(session.connection())
    try:
        keep, gone = Patron(), Patron()
        session.add_all([keep, gone])
        session.flush()
        session.execute(
            subs.insert(),
            [
                {"patron_id": keep.id, "item": 1},
                {"patron_id": gone.id, "item": 1},
                {"patron_id": gone.id, "item": 2},
            ],
        )
        _move_rows(session, subs, "patron_id", gone.id, keep.id)
        rows = session.execute(select(subs.c.patron_id, subs.c.item).order_by(subs.c.item)).all()
        assert [tuple(r) for r in rows] == [(keep.id, 1), (keep.id, 2)]
    finally:
        session.rollback()
        subs.drop(session.connection(), checkfirst=True)
        session.commit()
