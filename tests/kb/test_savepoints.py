"""A savepoint inside a transaction must not commit on its own.

pysqlite only opens a transaction before INSERT/UPDATE/DELETE, so a SAVEPOINT that
comes first starts a transaction of its own, and its RELEASE commits it: work the
caller later rolls back would stay. These check, on both backends, that what a
savepoint wrote goes away with the caller's rollback.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from kb.db import sessionmaker_for
from kb.inbound.service import claim_delivery
from kb.outbound.models import OutboundMessage
from kb.outbound.service import enqueue
from kb.patrons.models import ChannelIdentity, Patron
from kb.patrons.service import identity_for


def _count(db_url: str, model: type) -> int:
    with sessionmaker_for(db_url)() as fresh:
        return int(fresh.scalar(select(func.count()).select_from(model)) or 0)


def test_a_new_patron_goes_away_with_the_callers_rollback(db_url: str, session: Session) -> None:
    identity_for(session, "web", "visitor-1")
    session.rollback()
    assert _count(db_url, Patron) == 0
    assert _count(db_url, ChannelIdentity) == 0


def test_an_enqueued_message_goes_away_with_the_callers_rollback(
    db_url: str, session: Session
) -> None:
    patron = identity_for(session, "web", "visitor-2").patron
    session.commit()
    enqueue(session, patron.id, "hello", kind="reply", dedupe_key="k-1")
    session.rollback()
    assert _count(db_url, OutboundMessage) == 0


def test_a_claimed_inbound_delivery_is_released_by_the_callers_rollback(
    db_url: str, session: Session
) -> None:
    assert claim_delivery(session, "telegram", "update-1", timedelta(hours=1))
    session.rollback()
    # Not kept: the same update can be claimed (and so handled) again.
    assert claim_delivery(session, "telegram", "update-1", timedelta(hours=1))


def _meanwhile(session: Session, db_url: str, work) -> None:  # type: ignore[no-untyped-def]
    """Run ``work`` in another session and commit it just before ``session`` next
    flushes: a concurrent request that got there first."""

    done: list[bool] = []

    def once(*_args: object) -> None:
        if done:
            return
        done.append(True)
        with sessionmaker_for(db_url)() as other:
            work(other)
            other.commit()

    event.listen(session, "before_flush", once)


def test_a_concurrent_first_contact_gives_both_the_same_patron(
    db_url: str, session: Session
) -> None:
    _meanwhile(session, db_url, lambda other: identity_for(other, "telegram", "42"))
    mine = identity_for(session, "telegram", "42")
    session.commit()
    assert _count(db_url, ChannelIdentity) == 1
    assert mine.external_id == "42"


def test_a_concurrent_enqueue_with_the_same_key_queues_one_message(
    db_url: str, session: Session
) -> None:
    patron = identity_for(session, "web", "visitor-3").patron
    session.commit()
    _meanwhile(
        session,
        db_url,
        lambda other: enqueue(other, patron.id, "hello", kind="reply", dedupe_key="k-2"),
    )
    message = enqueue(session, patron.id, "hello", kind="reply", dedupe_key="k-2")
    session.commit()
    assert _count(db_url, OutboundMessage) == 1
    assert message.dedupe_key == "k-2"


def test_a_delivery_claimed_concurrently_is_a_repeat(db_url: str, session: Session) -> None:
    _meanwhile(
        session,
        db_url,
        lambda other: claim_delivery(other, "wechat", "msg-9", timedelta(hours=1)),
    )
    assert not claim_delivery(session, "wechat", "msg-9", timedelta(hours=1))
    session.commit()
