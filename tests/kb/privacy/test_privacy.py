"""Notice, consent history, export, erasure and retention on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import create_engine, func, select, text

from kb import engine_tracker as tracker
from kb.alerts import consent as engagement
from kb.alerts import tokens
from kb.alerts.models import Subscriber, SubscriptionTopic, TopicKind
from kb.conversations import Speaker, conversation_for, record_message
from kb.conversations.models import Conversation, Message
from kb.delivery.metrics import delivery_report
from kb.delivery.models import DeliveryEvent, DeliveryRequest
from kb.delivery.states import DeliveryMethod, Event, Role, ServiceType, Status
from kb.feedback.models import Feedback
from kb.patrons import ChannelIdentity, Patron, identity_for
from kb.patrons.merge import merge_patrons
from kb.privacy import consent, export, forget, notice, page_links, retention
from kb.privacy.models import ConsentEvent, DataExport, Erasure, RetentionRun
from kb.questions import ReferenceQuestion, leave_question

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _ticket(session, patron_id, number, status=Status.SUBMITTED, closed_at=None):
    ticket = DeliveryRequest(
        ticket=f"DD-2026-{number:06d}",
        patron_id=patron_id,
        status=status,
        title="三体",
        service_type=ServiceType.LOAN,
        delivery_method=DeliveryMethod.PICKUP,
        contact_name="李华",
        contact_email="li.hua@example.edu.cn",
        contact_phone="13800000000",
        notes="我的论文要用",
        created_at=(closed_at or T0) - timedelta(days=3),
        closed_at=closed_at,
    )
    session.add(ticket)
    session.flush()
    session.add(
        DeliveryEvent(
            request_id=ticket.id,
            at=ticket.created_at,
            event=Event.ROUTE,
            actor="patron",
            role=Role.PATRON,
            from_status=Status.SUBMITTED,
            to_status=status,
            note="请尽快，我是李华",
        )
    )
    session.flush()
    return ticket


def _patron_with_everything(session):
    conv = conversation_for(session, "telegram", "tg-1001")
    patron = conv.patron
    patron.name, patron.email, patron.phone = "李华", "li.hua@example.edu.cn", "13800000000"
    record_message(session, conv, Speaker.PATRON, "有没有《三体》")
    record_message(session, conv, Speaker.BOT, "有的，在总馆。")
    leave_question(session, conv, "周末开门吗", "no_librarian")
    session.add(Feedback(kind="praise", text="服务很好", patron_id=patron.id, channel="telegram"))
    sub = Subscriber(patron_id=patron.id)
    sub.topics = [SubscriptionTopic(kind=TopicKind.KEYWORD, value="人工智能", words="人工智能")]
    session.add(sub)
    engagement.record(session, patron.id, True, source="telegram", language="zh")
    notice.show_if_due(session, patron.id, "telegram", "zh")
    session.flush()
    return conv, patron


def test_notice_once_per_patron_linked_channels_count_once_and_new_version_again(
    session, backend, monkeypatch
):
    web = identity_for(session, "web", "tok-web")
    tg = identity_for(session, "telegram", "tg-1")
    session.flush()
    shown = notice.show_if_due(session, web.patron_id, "web", None)
    assert shown is not None and "隐私" in shown and "Privacy" in shown  # unknown: both
    assert notice.show_if_due(session, web.patron_id, "web", "zh") is None
    en = notice.show_if_due(session, tg.patron_id, "telegram", "en")
    assert en is not None and "delete my data" in en and "隐私" not in en

    merge_patrons(session, keep=web.patron, gone=tg.patron)
    assert notice.show_if_due(session, web.patron_id, "telegram", "en") is None

    monkeypatch.setattr(notice, "VERSION", "2099-1")
    assert notice.show_if_due(session, web.patron_id, "web", "zh") is not None
    events = consent.history(session, web.patron_id)
    assert [(e.purpose, e.source, e.version) for e in events] == [
        ("processing", "web", "2026-1"),
        ("processing", "telegram", "2026-1"),
        ("processing", "web", "2099-1"),
    ]


def test_engagement_consent_lives_in_the_one_history(session, backend):
    patron = identity_for(session, "web", "tok").patron
    session.flush()
    engagement.record(session, patron.id, True, source="chat", language="en")
    assert engagement.has_consent(session, patron.id)
    assert not consent.has_consent(session, patron.id, consent.PROCESSING)
    engagement.record(session, patron.id, False, source="chat")
    assert not engagement.has_consent(session, patron.id)
    rows = session.scalars(select(ConsentEvent).where(ConsentEvent.patron_id == patron.id)).all()
    assert [(r.purpose, r.granted) for r in rows] == [("engagement", True), ("engagement", False)]


def test_migration_keeps_existing_engagement_consents(tmp_path):
    from alembic import command

    from kb.migrate import alembic_config, upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, "alerts@alerts_0001")  # the schema before the privacy room
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO patrons (id, created_at) VALUES (7, '2026-01-01')"))
        conn.execute(
            text(
                "INSERT INTO alert_consents (patron_id, purpose, granted, source, wording, "
                "recorded_at) VALUES (7, 'engagement', 1, 'chat', 'ok', '2026-01-02')"
            )
        )
    upgrade(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT patron_id, purpose, granted, source FROM privacy_consents")
        ).all()
        tables = set(conn.execute(text("SELECT name FROM sqlite_master")).scalars())
    engine.dispose()
    assert rows == [(7, "engagement", 1, "chat")]
    assert "alert_consents" not in tables


def test_export_holds_everything_and_the_link_works_once(session, backend):
    conv, patron = _patron_with_everything(session)
    _ticket(session, patron.id, 1)
    row, token = export.issue(session, patron.id, "telegram", hours=24)
    data = export.redeem(session, token)
    assert data["patron"]["email"] == "li.hua@example.edu.cn"  # decrypted
    assert data["channels"] == [
        {**data["channels"][0], "channel": "telegram", "user_id": "tg-1001"}
    ]
    texts = [m["text"] for c in data["conversations"] for m in c["messages"]]
    assert texts == ["有没有《三体》", "有的，在总馆。"]
    assert {c["purpose"] for c in data["consents"]} == {"engagement", "processing"}
    assert data["alert_subscription"]["topics"][0]["value"] == "人工智能"
    assert data["delivery_tickets"][0]["contact_name"] == "李华"
    assert data["questions_for_librarians"][0]["text"] == "周末开门吗"
    assert data["feedback"][0]["text"] == "服务很好"
    assert data["exports"][0]["downloaded_at"] is not None  # the export itself is recorded
    with pytest.raises(export.ExportGone):
        export.redeem(session, token)
    with pytest.raises(tokens.TokenInvalid):
        export.redeem(session, token[:-4] + "AAAA")


def test_export_link_expires(session, backend):
    patron = identity_for(session, "web", "tok").patron
    session.flush()
    with time_machine.travel(T0, tick=False):
        _, token = export.issue(session, patron.id, "web", hours=24)
    with (
        time_machine.travel(T0 + timedelta(hours=25), tick=False),
        pytest.raises(tokens.TokenExpired),
    ):
        export.redeem(session, token)


def test_forget_erases_the_patron_and_keeps_tickets_anonymous(session, backend, tmp_path):
    conv, patron = _patron_with_everything(session)
    linked = ChannelIdentity(
        patron_id=patron.id, channel="web", external_id="tok-w", external_index="ix-w"
    )
    session.add(linked)
    closed = _ticket(session, patron.id, 1, Status.COMPLETED, closed_at=T0)
    closed.supplied_at = T0 - timedelta(days=1)
    open_ = _ticket(session, patron.id, 2)
    export.issue(session, patron.id, "telegram", hours=24)
    sender, pid = conv.sender_id, patron.id
    before = delivery_report(session, date(2026, 1, 1), date(2026, 12, 31)).total.requests

    done = forget.forget_patron(session, pid, source="telegram")
    assert done.erased and done.sender_ids == [sender]
    assert done.counts["tickets_cancelled"] == 1 and done.counts["messages"] == 2
    for model, column in [
        (Patron, Patron.id),
        (ChannelIdentity, ChannelIdentity.patron_id),
        (Conversation, Conversation.patron_id),
        (ReferenceQuestion, ReferenceQuestion.patron_id),
        (Subscriber, Subscriber.patron_id),
        (ConsentEvent, ConsentEvent.patron_id),
        (DataExport, DataExport.patron_id),
        (Feedback, Feedback.patron_id),
    ]:
        assert session.scalar(select(func.count()).select_from(model).where(column == pid)) == 0
    assert session.scalar(select(func.count(Message.id))) == 0
    tickets = session.scalars(select(DeliveryRequest).order_by(DeliveryRequest.id)).all()
    assert [t.status for t in tickets] == [Status.COMPLETED, Status.CANCELLED]
    for t in tickets:
        assert (t.patron_id, t.contact_name, t.contact_email, t.contact_phone, t.notes) == (
            None,
            None,
            None,
            None,
            None,
        )
    notes = session.scalars(select(DeliveryEvent.note)).all()
    assert notes and all(n is None for n in notes)
    after = delivery_report(session, date(2026, 1, 1), date(2026, 12, 31)).total.requests
    assert after == before == 2  # the statistics still count both
    erasure = session.scalars(select(Erasure)).one()
    assert erasure.source == "telegram" and erasure.counts["channels"] == 2
    assert "李华" not in str(erasure.counts)
    # Idempotent: a second request finds nothing and records nothing.
    assert not forget.forget_patron(session, pid, source="telegram").erased
    assert session.scalar(select(func.count(Erasure.id))) == 1
    cancel = session.scalar(
        select(DeliveryEvent).where(
            DeliveryEvent.request_id == open_.id, DeliveryEvent.event == Event.CANCEL
        )
    )
    assert cancel is not None and cancel.actor == forget.ACTOR


def test_tracker_rows_of_forgotten_conversations_are_deleted(tmp_path):
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    assert tracker.delete_conversations(url, ["web-a"]) == 0  # no table yet: nothing to do
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, timestamp REAL)")
        )
        for sender in ("web-a", "web-a", "web-b"):
            conn.execute(
                text("INSERT INTO events (sender_id, timestamp) VALUES (:s, 1)"), {"s": sender}
            )
    engine.dispose()
    assert tracker.delete_conversations(url, ["web-a"]) == 2
    assert tracker.count_events(url, "web-a") == 0 and tracker.count_events(url, "web-b") == 1


def test_retention_with_frozen_time_is_idempotent_and_logged(session, backend):
    limits = retention.Limits(transcript_days=180, closed_ticket_days=365)
    with time_machine.travel(T0, tick=False):
        conv, patron = _patron_with_everything(session)  # two lines at T0
        old_ticket = _ticket(session, patron.id, 1, Status.COMPLETED, closed_at=T0)
        _, token = export.issue(session, patron.id, "web", hours=24)
        unused = page_links.issue(session, patron.id, "web", minutes=365 * 1440)
        page_links.issue(session, patron.id, "web", minutes=30)  # never opened
        page_links.redeem(session, page_links.issue(session, patron.id, "web", minutes=30))
    with time_machine.travel(T0 + timedelta(days=200), tick=False):
        record_message(session, conv, Speaker.PATRON, "还在吗")
        recent_ticket = _ticket(
            session, patron.id, 2, Status.CANCELLED, closed_at=T0 + timedelta(days=200)
        )
        dry = retention.run(session, limits, dry_run=True)
        assert dry.counts == {
            "transcript_lines": 2,
            "tickets_anonymised": 0,
            "expired_exports": 1,
            "spent_page_links": 2,
            "past_searches": 0,
        }
        assert session.scalar(select(func.count(Message.id))) == 3  # dry run changed nothing
        first = retention.run(session, limits)
        assert first.counts == dry.counts
        texts = session.scalars(select(Message.text)).all()
        assert texts == ["还在吗"]
        # The link not yet used or expired still opens the page.
        assert page_links.redeem(session, unused) == patron.id
        assert old_ticket.contact_name == "李华"  # closed 200 days ago: under 365
    with time_machine.travel(T0 + timedelta(days=366), tick=False):
        second = retention.run(session, limits)
        assert second.counts["tickets_anonymised"] == 1
        session.refresh(old_ticket)
        assert (old_ticket.patron_id, old_ticket.contact_email, old_ticket.notes) == (
            None,
            None,
            None,
        )
        assert recent_ticket.contact_name == "李华"
        assert retention.run(session, limits).counts["tickets_anonymised"] == 0  # done once
    with time_machine.travel(T0 + timedelta(days=381), tick=False):
        assert retention.run(session, limits).counts["transcript_lines"] == 1  # "还在吗" now
        assert retention.run(session, limits).counts == {
            "transcript_lines": 0,
            "tickets_anonymised": 0,
            "expired_exports": 0,
            "spent_page_links": 0,
            "past_searches": 0,
        }
    runs = session.scalars(select(RetentionRun).order_by(RetentionRun.id)).all()
    assert [r.dry_run for r in runs] == [True, False, False, False, False, False]
    assert runs[1].limits == {
        "transcript_days": 180,
        "closed_ticket_days": 365,
        "search_history_days": 90,
    }
    assert runs[1].started_at == T0 + timedelta(days=200)
