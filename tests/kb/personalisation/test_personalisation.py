"""Personalised suggestions only with consent: searches are kept only after a yes,
change the ranking and say why; withdrawal, retention, export and forget remove them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from actions.recommend import recommend
from kb.alerts.models import Subscriber, SubscriptionTopic, TopicKind
from kb.catalog.sample import load_sample
from kb.conversations import conversation_for
from kb.personalisation import consent as personalisation
from kb.personalisation.history import patron_history, record_search, searches
from kb.personalisation.models import PastSearch
from kb.privacy import consent, export, forget, retention

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _patron(session: Session, external_id: str = "tg-2001") -> int:
    return conversation_for(session, "telegram", external_id).patron.id


def test_without_consent_nothing_is_kept_or_used(session: Session, backend: str) -> None:
    load_sample(session)
    patron = _patron(session)
    assert not record_search(session, patron, "深度学习")
    assert patron_history(session, patron) is None
    assert session.scalar(select(func.count(PastSearch.id))) == 0
    # A no is a decision too: the offer pauses, and still nothing is kept.
    personalisation.refuse(session, patron, source="telegram")
    assert not personalisation.offer_due(session, patron, pause_days=90)
    assert not record_search(session, patron, "深度学习")
    assert session.scalar(select(func.count(PastSearch.id))) == 0


def test_the_offer_pauses_after_a_no_and_never_follows_a_yes_or_a_withdrawal(
    session: Session, backend: str
) -> None:
    patron = _patron(session)
    assert personalisation.offer_due(session, patron, pause_days=90, now=T0)  # never asked
    with time_machine.travel(T0, tick=False):
        personalisation.refuse(session, patron, source="web", language="en")
    refusal = consent.latest(session, patron, consent.PERSONALISATION)
    assert refusal is not None and not refusal.granted and refusal.recorded_at == T0
    assert personalisation.is_refusal(refusal) and "alert topics" in (refusal.wording or "")
    for days, due in ((1, False), (89, False), (90, True), (200, True)):
        now = T0 + timedelta(days=days)
        assert personalisation.offer_due(session, patron, pause_days=90, now=now) is due, days
    assert not personalisation.offer_due(session, patron, pause_days=365, now=T0 + timedelta(200))

    with time_machine.travel(T0 + timedelta(days=100), tick=False):
        personalisation.record(session, patron, True, source="web")
    assert not personalisation.offer_due(session, patron, pause_days=0, now=T0 + timedelta(999))
    with time_machine.travel(T0 + timedelta(days=101), tick=False):
        personalisation.record(session, patron, False, source="web")  # withdrawn
    withdrawal = consent.latest(session, patron, consent.PERSONALISATION)
    assert withdrawal is not None and not personalisation.is_refusal(withdrawal)
    assert not personalisation.offer_due(session, patron, pause_days=0, now=T0 + timedelta(999))


def test_consent_changes_the_ranking_and_says_why(session: Session, backend: str) -> None:
    load_sample(session)
    patron = _patron(session)
    plain = recommend(session, "人工智能", None, "zh", patron_history(session, patron))
    assert not plain.personalised
    assert "深度学习" not in [p.title for p in plain.picks]

    personalisation.record(session, patron, True, source="telegram", language="zh")
    event = consent.latest(session, patron, consent.PERSONALISATION)
    assert event is not None and event.granted and "检索" in (event.wording or "")
    assert record_search(session, patron, "深度学习")
    zh = recommend(session, "人工智能", None, "zh", patron_history(session, patron))
    assert zh.personalised
    first = zh.picks[0]
    assert first.title == "深度学习"
    assert first.why[0] == ("因为您检索过“深度学习”", "because you searched for “深度学习”")

    # Alert topics count too, in the patron's own words.
    sub = Subscriber(patron_id=patron)
    sub.topics = [SubscriptionTopic(kind=TopicKind.KEYWORD, value="turing", words="Turing test")]
    session.add(sub)
    session.flush()
    en = recommend(session, "artificial intelligence", None, "en", patron_history(session, patron))
    turing = [p for p in en.picks if p.title == "Computing machinery and intelligence"]
    assert turing and turing[0].why[0][1] == "because you subscribed to “Turing test”"
    # The same topic without the history: that paper is not among the picks.
    assert "Computing machinery and intelligence" not in [
        p.title for p in recommend(session, "artificial intelligence", None, "en").picks
    ]


def test_searches_are_encrypted_and_withdrawal_deletes_them(session: Session, backend: str) -> None:
    patron = _patron(session)
    personalisation.record(session, patron, True, source="web")
    for query in ("深度学习", "machine learning"):
        assert record_search(session, patron, query)
    stored = session.execute(text("SELECT query FROM personalisation_searches")).scalars().all()
    assert len(stored) == 2 and not any("深度" in q or "machine" in q for q in stored)
    assert [s.query for s in searches(session, patron)] == ["深度学习", "machine learning"]

    _, deleted = personalisation.record(session, patron, False, source="web")
    assert deleted == 2
    assert searches(session, patron) == []
    assert not record_search(session, patron, "after withdrawal")
    assert patron_history(session, patron) is None
    purposes = [(e.purpose, e.granted) for e in consent.history(session, patron)]
    assert purposes == [("personalisation", True), ("personalisation", False)]


def test_export_forget_and_retention_cover_past_searches(session: Session, backend: str) -> None:
    patron = _patron(session)
    other = _patron(session, "tg-2002")
    with time_machine.travel(T0, tick=False):
        personalisation.record(session, patron, True, source="telegram")
        personalisation.record(session, other, True, source="telegram")
        record_search(session, patron, "量子计算")
        record_search(session, other, "古典音乐")
    with time_machine.travel(T0 + timedelta(days=60), tick=False):
        record_search(session, patron, "深度学习")
        data = export.assemble(session, patron)
        assert [s["query"] for s in data["past_searches_for_suggestions"]] == [
            "量子计算",
            "深度学习",
        ]
        assert any(c["purpose"] == "personalisation" for c in data["consents"])

    limits = retention.Limits(transcript_days=180, closed_ticket_days=365, search_history_days=30)
    with time_machine.travel(T0 + timedelta(days=61), tick=False):
        assert retention.run(session, limits, dry_run=True).counts["past_searches"] == 2
        assert retention.run(session, limits).counts["past_searches"] == 2
        assert retention.run(session, limits).counts["past_searches"] == 0
    assert [s.query for s in searches(session, patron)] == ["深度学习"]

    gone = forget.forget_patron(session, patron, source="chat")
    assert gone.counts["past_searches"] == 1
    session.flush()
    assert session.scalar(select(func.count(PastSearch.id))) == 0
