"""One-tap unsubscribe links (valid, tampered, expired, RFC 8058 one-click), tracked
links and e-mail open images that count only with consent, the send hour learned from
them, and the librarian API (preview with audience, announce for admins, figures)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.alerts import consent, tokens
from kb.alerts.dispatch import queue_due
from kb.alerts.links import UNSUBSCRIBE, unsubscribe_url
from kb.alerts.matching import match_pending
from kb.alerts.models import AlertClick, AlertItem, AlertOpen, Subscriber
from kb.alerts.subscriptions import add_topics
from kb.alerts.vocabulary import vocabulary
from kb.db import utcnow
from kb.outbound.models import OutboundMessage
from kb.privacy import consent as privacy_consent
from kb.staff.audit import StaffAccess
from kb.staff.models import StaffMember, StaffRole
from kb.staff.service import add_staff
from tests.kb.alerts.conftest import bib, import_records, subscribe


@pytest.fixture
def client(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from kb.settings import get_settings

    monkeypatch.setenv("REFDESK_DATABASE_URL", db_url)
    monkeypatch.setenv("REFDESK_PUBLIC_URL", "https://desk.example.org")
    get_settings.cache_clear()
    from bot.app import create_app

    with TestClient(create_app(), follow_redirects=False) as c:
        yield c


def path(url: str) -> str:
    return url.replace("https://desk.example.org", "")


def body_of(session: Session, patron_id: int) -> dict[str, object]:
    message = session.scalar(select(OutboundMessage).where(OutboundMessage.patron_id == patron_id))
    assert message is not None
    return json.loads(message.body)


def test_tokens_are_opaque_and_refuse_tampering_other_purposes_and_age() -> None:
    token = tokens.make(UNSUBSCRIBE, {"s": 42, "t": "TP18"}, days=1)
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert b"TP18" not in raw and b'"s":42' not in raw  # opaque: the ids are encrypted
    assert tokens.read(token, UNSUBSCRIBE)["s"] == 42
    tampered = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    for bad in (tampered, token[:-3], "nonsense", ""):
        with pytest.raises(tokens.TokenInvalid):
            tokens.read(bad, UNSUBSCRIBE)
    with pytest.raises(tokens.TokenInvalid):
        tokens.read(token, "alerts-click")
    with pytest.raises(tokens.TokenExpired):
        tokens.read(token, UNSUBSCRIBE, now=utcnow() + timedelta(days=2))


def test_an_alert_unsubscribes_from_its_topic_with_one_tap(
    session: Session, libraries: None, client: TestClient
) -> None:
    sub = subscribe(session, "人工智能、宋史")
    import_records(session, [bib("r1", "人工智能导论", clc="TP18")])
    queue_due(session)
    text = str(body_of(session, sub.patron_id)["text"])
    topic_link = re.search(r"退订「人工智能（TP18）」：(\S+)", text).group(1)  # type: ignore[union-attr]
    all_link = re.search(r"退订全部通报：(\S+)", text).group(1)  # type: ignore[union-attr]
    page = client.get(path(topic_link), headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert "停止接收：人工智能（TP18）" in page.text and '<form method="post"' in page.text
    session.expire_all()
    assert len(session.get(Subscriber, sub.id).topics) == 2  # a GET (link scanners) changes nothing
    done = client.post(path(topic_link))
    assert done.status_code == 200 and "已退订" in done.text
    session.expire_all()
    assert [t.value for t in session.get(Subscriber, sub.id).topics] == ["K244"]
    again = client.get(path(topic_link))
    assert again.status_code == 200 and "已经退订" in again.text
    # RFC 8058: the mail client POSTs List-Unsubscribe=One-Click to the List-Unsubscribe URL.
    one_click = client.post(
        path(all_link),
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    session.expire_all()
    subscriber = session.get(Subscriber, sub.id)
    assert subscriber.topics == [] and not subscriber.active


def test_changed_and_expired_unsubscribe_links_are_refused_clearly(
    session: Session, client: TestClient
) -> None:
    sub = subscribe(session, "人工智能")
    link = path(unsubscribe_url(sub.id, "TP18"))
    changed = link[:-6] + ("x" if link[-6] != "x" else "y") + link[-5:]
    assert client.get(changed).status_code == 404
    assert client.post(changed).status_code == 404
    with time_machine.travel(utcnow() + timedelta(days=61)):
        expired = client.post(link, headers={"Accept-Language": "en"})
    assert expired.status_code == 410 and "This link has expired" in expired.text
    session.expire_all()
    assert len(session.get(Subscriber, sub.id).topics) == 1


def test_links_go_straight_to_the_item_without_consent(
    session: Session, libraries: None, client: TestClient
) -> None:
    sub = subscribe(session, "machine learning", language="en")
    import_records(
        session,
        [bib("r1", "Deep Learning", clc="TP181", links=[{"url": "https://example.org/dl"}])],
    )
    queue_due(session)
    body = body_of(session, sub.patron_id)
    assert "https://example.org/dl" in str(body["text"])
    assert "/alerts/r/" not in str(body["text"])


def test_with_consent_clicks_are_counted_and_teach_the_send_hour_withdrawal_forgets(
    session: Session, libraries: None, client: TestClient
) -> None:
    sub = subscribe(session, "machine learning", language="en", timezone="Asia/Shanghai")
    consent.record(session, sub.patron_id, True, source="chat", language="en")
    session.commit()
    import_records(
        session,
        [bib("r1", "Deep Learning", clc="TP181", links=[{"url": "https://example.org/dl"}])],
    )
    queue_due(session)
    tracked = re.search(
        r"(https://desk\.example\.org/alerts/r/\S+)", str(body_of(session, sub.patron_id)["text"])
    ).group(1)  # type: ignore[union-attr]
    for day in range(3):
        with time_machine.travel(f"2026-12-0{day + 1}T13:15:00+00:00"):  # 21:15 in Shanghai
            hop = client.get(path(tracked))
        assert hop.status_code == 302 and hop.headers["location"] == "https://example.org/dl"
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AlertClick)) == 3
    assert session.get(Subscriber, sub.id).best_hour == 21
    consent.record(session, sub.patron_id, False, source="chat")
    session.commit()
    assert client.get(path(tracked)).headers["location"] == "https://example.org/dl"
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AlertClick)) == 0
    assert session.get(Subscriber, sub.id).best_hour is None
    assert not consent.has_consent(session, sub.patron_id)


def _open_image(session: Session, patron_id: int) -> str:
    """The open-tracking image of the patron's latest alert (its e-mail HTML part)."""
    message = session.scalar(
        select(OutboundMessage)
        .where(OutboundMessage.patron_id == patron_id)
        .order_by(OutboundMessage.created_at.desc())
        .limit(1)
    )
    assert message is not None
    return str(json.loads(message.body)["email"]["open_image"])


def test_with_consent_email_opens_count_once_teach_the_send_hour_withdrawal_forgets(
    session: Session, libraries: None, client: TestClient
) -> None:
    sub = subscribe(session, "machine learning", language="en", channel="email")
    consent.record(session, sub.patron_id, True, source="chat", language="en")
    session.commit()
    images = []
    for i in range(3):  # three alerts, one e-mail each
        import_records(session, [bib(f"r{i}", f"Deep Learning {i}", clc="TP181")])
        assert queue_due(session) == 1
        images.append(path(_open_image(session, sub.patron_id)))
    assert len(set(images)) == 3
    for day, image in enumerate(images + images[:1]):  # the first one is opened twice
        with time_machine.travel(f"2026-12-0{day + 1}T13:15:00+00:00"):  # 21:15 in Shanghai
            answer = client.get(image)
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/gif"
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AlertOpen)) == 3
    assert session.get(Subscriber, sub.id).best_hour == 21
    consent.record(session, sub.patron_id, False, source="chat")
    session.commit()
    assert client.get(images[1]).status_code == 200  # still an image, counted no more
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AlertOpen)) == 0
    assert session.get(Subscriber, sub.id).best_hour is None


def test_a_consent_to_the_clicks_only_wording_never_brings_the_open_image(
    session: Session, libraries: None
) -> None:
    sub = subscribe(session, "machine learning", language="en", channel="email")
    # Agreed before open tracking existed: the wording named links only.
    privacy_consent.record(
        session, sub.patron_id, consent.PURPOSE, True, source="chat", version="2026-1"
    )
    session.commit()
    import_records(
        session,
        [bib("r1", "Deep Learning", clc="TP181", links=[{"url": "https://example.org/dl"}])],
    )
    assert queue_due(session) == 1
    body = body_of(session, sub.patron_id)
    assert "/alerts/r/" in str(body["text"])  # clicks still counted
    assert "open_image" not in body["email"]  # type: ignore[operator]


def test_consent_is_never_assumed(session: Session) -> None:
    sub = subscribe(session, "人工智能")
    assert not consent.has_consent(session, sub.patron_id)


def test_librarians_preview_admins_announce_everyone_reads_figures(
    session: Session, libraries: None, client: TestClient
) -> None:
    key = add_staff(session, "li.wei", library_code="PKU").token
    admin_key = add_staff(session, "zhao", library_code=None, role=StaffRole.ADMIN).token
    session.commit()
    auth = {"Authorization": f"Bearer {key}"}
    admin = {"Authorization": f"Bearer {admin_key}"}
    ai = subscribe(session, "人工智能")
    broad = subscribe(session, "engineering", language="en")
    subscribe(session, "宋史")
    consent.record(session, ai.patron_id, True, source="chat")
    session.commit()
    draft = {
        "title_zh": "人工智能讲座：大模型与图书馆",
        "title_en": "Talk: large language models and libraries",
        "text_zh": "周五下午三点，总馆报告厅。",
        "text_en": "Friday 3 pm, main library lecture hall.",
        "url": "https://lib.example.org/events/42",
        "topics": ["TP18"],
    }
    assert client.post("/api/alerts/announcements/preview", json=draft).status_code == 401
    preview = client.post("/api/alerts/announcements/preview", json=draft, headers=auth).json()
    assert preview["audience"] == 2
    assert preview["labels"]["zh"] == ["人工智能（TP18）"]
    assert preview["preview"]["en"].startswith("Library announcement:\nTalk: large language models")
    bad = client.post(
        "/api/alerts/announcements/preview", json={**draft, "topics": []}, headers=auth
    )
    assert bad.status_code == 400 and "topics" in bad.json()["message"]
    later = (utcnow() + timedelta(hours=2)).isoformat()
    # A librarian composes and previews; sending to patrons is for admins, as in the console.
    refused = client.post(
        "/api/alerts/announcements", json={**draft, "publish_at": later}, headers=auth
    )
    assert refused.status_code == 403 and refused.json()["error"] == "admin_only"
    assert session.scalar(select(func.count()).select_from(AlertItem)) == 0
    made = client.post(
        "/api/alerts/announcements", json={**draft, "publish_at": later}, headers=admin
    )
    assert made.status_code == 201 and made.json()["audience"] == 2
    assert match_pending(session) == 0  # scheduled: not yet
    assert match_pending(session, now=utcnow() + timedelta(hours=3)) == 2
    queue_due(session, now=utcnow() + timedelta(hours=3))
    assert "馆员通知" in str(body_of(session, ai.patron_id)["text"])
    assert "Talk: large language models" in str(body_of(session, broad.patron_id)["text"])
    until = (utcnow() + timedelta(hours=4)).isoformat()
    figures = client.get(
        "/api/alerts/stats", params={"lang": "en", "to": until}, headers=auth
    ).json()
    rows = {r["topic"]: r for r in figures["topics"]}
    assert rows["TP18"]["subscribers"] == 1 and rows["TP18"]["consenting_subscribers"] == 1
    assert rows["announcement"]["queued"] == 2
    assert "opted in" in figures["note"]
    logged = session.execute(
        select(StaffMember.username, StaffAccess.outcome)
        .join(StaffMember, StaffMember.id == StaffAccess.staff_id)
        .where(StaffAccess.action == "alerts_announce")
    ).all()
    assert sorted(logged) == [("li.wei", 403), ("zhao", 200)]


@pytest.mark.parametrize("consents", [True, False])
def test_with_consent_the_topics_opened_most_come_first(
    session: Session, libraries: None, consents: bool
) -> None:
    sub = subscribe(session, "machine learning", language="en")
    history = vocabulary().understand("history")
    add_topics(session, sub.patron_id, history, words="history", language="en")
    (history_topic,) = [t.code for t in history.topics]
    if consents:
        consent.record(session, sub.patron_id, True, source="chat", language="en")
    for _ in range(3):  # clicks kept from earlier alerts about history
        session.add(AlertClick(subscriber_id=sub.id, topic=history_topic, local_hour=9))
    session.commit()
    import_records(
        session,
        [
            bib("r1", "Deep Learning", clc="TP181"),
            bib("r2", "A History of China", clc=history_topic),
        ],
    )
    assert queue_due(session) == 1
    text = str(body_of(session, sub.patron_id)["text"])
    first, second = text.index("Deep Learning"), text.index("A History of China")
    # Ranked by what they open only with consent; otherwise in the order items came.
    assert (second < first) if consents else (first < second)
