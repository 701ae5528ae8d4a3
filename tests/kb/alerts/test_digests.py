"""When alerts go out, with frozen time: instant, daily and weekly digests at the
subscriber's hour in their own time zone (DST included), quiet hours held until they
end, never an empty digest, one message per run however many items."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.alerts.dispatch import queue_due
from kb.alerts.models import AlertDelivery, DeliveryStatus, Frequency
from kb.alerts.subscriptions import configure, remove_all
from kb.alerts.timing import due_time
from kb.outbound.models import OutboundMessage
from tests.kb.alerts.conftest import bib, import_records, subscribe


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def messages(session: Session, patron_id: int) -> list[OutboundMessage]:
    return list(
        session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.patron_id == patron_id)
            .order_by(OutboundMessage.created_at)
        )
    )


def due_of(session: Session, subscriber_id: int) -> set[datetime]:
    return set(
        session.scalars(
            select(AlertDelivery.due_at).where(AlertDelivery.subscriber_id == subscriber_id)
        )
    )


def test_a_daily_digest_collects_the_day_at_eight_local_in_one_message(
    session: Session, libraries: None
) -> None:
    with time_machine.travel(at("2026-11-23T10:00:00+08:00"), tick=False) as clock:
        sub = subscribe(session, "人工智能", frequency="daily")
        import_records(
            session, [bib("r1", "人工智能导论", clc="TP18"), bib("r2", "智能时代", clc="TP18")]
        )
        assert due_of(session, sub.id) == {at("2026-11-24T08:00:00+08:00")}
        assert queue_due(session) == 0
        clock.move_to(at("2026-11-24T07:59:00+08:00"))
        assert queue_due(session) == 0
        clock.move_to(at("2026-11-24T08:00:30+08:00"))
        assert queue_due(session) == 1
        assert queue_due(session) == 0
    [message] = messages(session, sub.patron_id)
    body = json.loads(message.body)
    assert message.kind == "digest"
    assert "每日主题通报：2 条新内容" in body["text"]
    assert "人工智能导论" in body["text"] and "智能时代" in body["text"]
    assert "人工智能（TP18）" in body["text"]
    assert "退订全部通报" in body["text"]
    assert message.dedupe_key.startswith(f"alert:{sub.id}:")
    statuses = set(
        session.scalars(select(AlertDelivery.status).where(AlertDelivery.subscriber_id == sub.id))
    )
    assert statuses == {DeliveryStatus.QUEUED}


def test_a_weekly_digest_waits_for_monday_in_the_subscribers_zone(
    session: Session, libraries: None
) -> None:
    with time_machine.travel(at("2026-11-24T11:00:00+08:00"), tick=False):  # a Tuesday
        sub = subscribe(session, "climate change", language="en", frequency="weekly")
        import_records(session, [bib("r1", "The Uninhabitable Earth", subjects=["Climate change"])])
    assert due_of(session, sub.id) == {at("2026-11-30T08:00:00+08:00")}
    with time_machine.travel(at("2026-11-30T08:00:01+08:00"), tick=False):
        assert queue_due(session) == 1
    [message] = messages(session, sub.patron_id)
    assert "Your weekly alert digest: 1 new" in json.loads(message.body)["text"]


def test_digest_hours_follow_each_zone_and_daylight_saving() -> None:
    daily = dict(frequency=Frequency.DAILY, quiet_start=None, quiet_end=None, best_hour=None)
    # 10:00 EST on Saturday; DST starts at 02:00 on Sunday 8 March 2026: 08:00 is EDT.
    assert due_time(at("2026-03-07T15:00:00+00:00"), timezone="America/New_York", **daily) == at(
        "2026-03-08T08:00:00-04:00"
    )
    assert due_time(at("2026-03-07T15:00:00+00:00"), timezone="Asia/Shanghai", **daily) == at(
        "2026-03-08T08:00:00+08:00"
    )
    assert due_time(at("2026-03-07T15:00:00+00:00"), timezone="Asia/Kolkata", **daily) == at(
        "2026-03-08T08:00:00+05:30"
    )
    learned = {**daily, "best_hour": 20}
    assert due_time(at("2026-03-07T15:00:00+00:00"), timezone="Asia/Shanghai", **learned) == at(
        "2026-03-08T20:00:00+08:00"
    )


def test_quiet_hours_hold_an_instant_alert_until_they_end(
    session: Session, libraries: None
) -> None:
    with time_machine.travel(at("2026-11-23T23:30:00+08:00"), tick=False) as clock:
        sub = subscribe(session, "宋史", quiet_start="22:00", quiet_end="07:00")
        import_records(session, [bib("r1", "宋代政治史", clc="K244")])
        assert due_of(session, sub.id) == {at("2026-11-24T07:00:00+08:00")}
        clock.move_to(at("2026-11-24T03:00:00+08:00"))
        assert queue_due(session) == 0
        clock.move_to(at("2026-11-24T07:00:01+08:00"))
        assert queue_due(session) == 1
    assert len(messages(session, sub.patron_id)) == 1


def test_quiet_hours_set_after_matching_still_hold_the_alert(
    session: Session, libraries: None
) -> None:
    with time_machine.travel(at("2026-11-23T13:10:00+08:00"), tick=False) as clock:
        sub = subscribe(session, "考古")
        import_records(session, [bib("r1", "考古学通论", clc="K85")])
        configure(session, sub, quiet_start="13:00", quiet_end="14:00", timezone="Asia/Shanghai")
        session.commit()
        assert queue_due(session) == 0
        assert due_of(session, sub.id) == {at("2026-11-23T14:00:00+08:00")}
        clock.move_to(at("2026-11-23T14:00:00+08:00"))
        assert queue_due(session) == 1


def test_no_empty_digest_when_everything_was_unsubscribed_meanwhile(
    session: Session, libraries: None
) -> None:
    with time_machine.travel(at("2026-11-23T10:00:00+08:00"), tick=False) as clock:
        sub = subscribe(session, "人工智能", frequency="daily")
        quiet = subscribe(session, "宋史", frequency="daily")
        import_records(session, [bib("r1", "人工智能导论", clc="TP18")])
        remove_all(session, sub)
        session.commit()
        clock.move_to(at("2026-11-24T09:00:00+08:00"))
        assert queue_due(session) == 0
    assert messages(session, sub.patron_id) == [] and messages(session, quiet.patron_id) == []
    statuses = set(session.scalars(select(AlertDelivery.status)))
    assert statuses == {DeliveryStatus.DROPPED}


def test_many_new_items_make_one_instant_message_with_the_rest_counted(
    session: Session, libraries: None
) -> None:
    sub = subscribe(session, "machine learning", language="en")
    import_records(
        session, [bib(f"r{i}", f"Machine Learning Volume {i}", clc="TP181") for i in range(14)]
    )
    assert queue_due(session) == 1
    [message] = messages(session, sub.patron_id)
    text = json.loads(message.body)["text"]
    assert text.startswith("New for your alerts: 14 items")
    assert "… and 4 more" in text
    assert "Unsubscribe from Machine learning (TP181):" in text
    topic_id = sub.topics[0].id
    assert json.loads(message.body)["buttons"] == [
        {
            "title": "Stop Machine learning (TP181)",
            "payload": f'/unsubscribe_alerts{{"alert_topic_id": "{topic_id}"}}',
        },
        {"title": "Stop all alerts", "payload": '/unsubscribe_alerts{"alert_topic_id": "all"}'},
    ]


def test_a_run_that_dies_before_its_commit_leaves_nothing_half_queued(
    session: Session, libraries: None
) -> None:
    """The claim and the message are one transaction: a worker killed before the commit
    leaves the deliveries pending, never "queued" without a message (on SQLite too)."""
    from kb.alerts.dispatch import _queue_batch
    from kb.db import utcnow

    sub = subscribe(session, "machine learning", language="en")
    import_records(session, [bib("r1", "Machine Learning Basics", clc="TP181")])
    session.commit()
    assert _queue_batch(session, [sub.id], utcnow()) == 1
    session.rollback()  # the process dies here
    statuses = set(
        session.scalars(select(AlertDelivery.status).where(AlertDelivery.subscriber_id == sub.id))
    )
    assert statuses == {DeliveryStatus.PENDING} and messages(session, sub.patron_id) == []
    assert queue_due(session) == 1  # the next run sends it
