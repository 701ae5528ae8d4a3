"""The console's alerts pages over real HTTP against a gateway process: compose with a
preview (form and live JSON), audience counts, scheduling in a time zone, who may send,
the list of scheduled and sent announcements, per-topic figures, the access log."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from tests.console.conftest import Gateways, Librarian

DRAFT = {
    "title_zh": "讲座：大模型与图书馆 <b>新</b>",
    "title_en": "Talk: large language models and libraries",
    "text_zh": "周五下午三点，总馆报告厅。",
    "text_en": "Friday 3 pm, main library lecture hall.",
    "url": "https://lib.example.org/events/42",
    "topics": "人工智能",
    "keywords": "",
}


def _setup_audience(gateways: Gateways) -> dict[str, int]:
    from kb.alerts import consent
    from kb.alerts.subscriptions import add_topics
    from kb.alerts.vocabulary import vocabulary
    from kb.patrons.models import Patron

    ids = {}
    with gateways.db() as session:
        for name, words in [("ai1", "人工智能"), ("ai2", "artificial intelligence"), ("k", "宋史")]:
            patron = Patron(language="zh")
            session.add(patron)
            session.flush()
            sub, _ = add_topics(session, patron.id, vocabulary().understand(words))
            ids[name] = sub.id
            if name == "ai1":
                consent.record(session, patron.id, True, source="chat")
    return ids


def test_compose_schedule_list_and_figures(gateways: Gateways) -> None:
    url = gateways.urls[0]
    anonymous = httpx.get(f"{url}/console/alerts", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/console/login"
    subs = _setup_audience(gateways)
    li, zhao = Librarian(url, "li"), Librarian(url, "zhao")

    page = li.http.get("/console/alerts?lang=zh")
    assert page.status_code == 200 and "撰写通知" in page.text
    assert "只有管理员可以发送" in page.text and 'value="publish"' not in page.text

    # The form's preview: audience, both languages, markup shown as text.
    shown = li.http.post("/console/alerts", data={**DRAFT, "csrf": li.csrf, "action": "preview"})
    assert shown.status_code == 200
    assert '<strong id="audience">2</strong>' in shown.text
    assert "人工智能（TP18）" in shown.text
    assert html.escape("讲座：大模型与图书馆 <b>新</b>") in shown.text
    assert "<b>新</b>" not in shown.text
    assert "Library announcement:\nTalk: large language models" in html.unescape(shown.text)

    # The live preview the page's script asks for.
    live = li.post("/alerts/preview", {**DRAFT, "topics": "TP18, 宋史"})
    assert live.status_code == 200
    assert live.json()["audience"] == 3
    assert live.json()["labels"]["en"][0] == "Artificial intelligence (TP18)"
    empty = li.post("/alerts/preview", {**DRAFT, "topics": ""})
    assert empty.status_code == 400 and "topics" in empty.json()["message"]
    no_csrf = li.http.post("/console/api/alerts/preview", json=DRAFT)
    assert no_csrf.status_code == 403

    # Only an admin sends to patrons (the API's rule too); the refusal is logged.
    refused = li.http.post("/console/alerts", data={**DRAFT, "csrf": li.csrf, "action": "publish"})
    assert refused.status_code == 403 and "only an admin" in refused.text

    # Scheduled for tomorrow 09:00 in Shanghai = 01:00 UTC.
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    bad = zhao.http.post(
        "/console/alerts",
        data={**DRAFT, "csrf": zhao.csrf, "action": "publish", "publish_date": "tomorrow"},
    )
    assert bad.status_code == 422 and "publish_date" in bad.text
    assert 'value="Talk: large language models and libraries"' in bad.text  # nothing lost
    scheduled = zhao.http.post(
        "/console/alerts",
        data={
            **DRAFT,
            "csrf": zhao.csrf,
            "action": "publish",
            "publish_date": tomorrow.isoformat(),
            "publish_time": "09:00",
            "timezone": "Asia/Shanghai",
        },
    )
    assert scheduled.status_code == 303
    later_id = int(scheduled.headers["location"].rsplit("=", 1)[1])
    sent_now = zhao.http.post(
        "/console/alerts",
        data={**DRAFT, "title_en": "Now: AI talk", "csrf": zhao.csrf, "action": "publish"},
    )
    now_id = int(sent_now.headers["location"].rsplit("=", 1)[1])

    from kb.alerts.dispatch import queue_due
    from kb.alerts.matching import match_pending
    from kb.alerts.models import AlertClick, AlertDelivery, AlertItem, AlertOpen
    from kb.staff.audit import StaffAccess
    from kb.staff.models import StaffMember

    with gateways.db() as session:
        later = session.get(AlertItem, later_id)
        assert later is not None
        assert later.publish_at == datetime(
            tomorrow.year, tomorrow.month, tomorrow.day, 1, 0, tzinfo=UTC
        )
        assert match_pending(session) == 2  # the scheduled one is not due yet
        queue_due(session)
        session.add(AlertClick(subscriber_id=subs["ai1"], topic="announcement", local_hour=9))
        opened = session.scalar(
            select(AlertDelivery.outbound_id).where(AlertDelivery.subscriber_id == subs["ai1"])
        )
        session.add(AlertOpen(subscriber_id=subs["ai1"], outbound_id=opened, local_hour=9))

    listed = zhao.http.get("/console/alerts?lang=en")
    rows = {
        int(r.split('data-id="')[1].split('"')[0]): r
        for r in listed.text.split("<tr ")[1:]
        if "data-id" in r
    }
    assert "scheduled" in rows[later_id] and "sent" in rows[now_id]
    assert "<td>2</td>" in rows[now_id]  # queued for both AI subscribers

    stats = li.http.get("/console/alerts/stats?lang=en")
    assert stats.status_code == 200
    row = stats.text.split('data-topic="announcement"')[1].split("</tr>")[0]
    # Two alerts queued, one to the consenting patron, who clicked: 100%, not 50%.
    assert '<td class="queued">2</td>' in row and '<td class="clicks">1</td>' in row
    assert '<td class="rate">100.0%</td>' in row
    # The consenting patron's alert was opened; it was not e-mailed here, so no open rate.
    assert '<td class="opens">1</td>' in row and '<td class="open-rate">–</td>' in row
    tp18 = stats.text.split('data-topic="TP18"')[1].split("</tr>")[0]
    assert '<td class="subscribers">2</td>' in tp18 and '<td class="consenting">1</td>' in tp18
    assert "opted in" in stats.text

    with gateways.db() as session:
        logged = session.execute(
            select(StaffMember.username, StaffAccess.action, StaffAccess.outcome).join(
                StaffMember, StaffMember.id == StaffAccess.staff_id
            )
        ).all()
    assert ("li", "console.alerts", 200) in logged
    assert ("li", "console.alerts_stats", 200) in logged
    assert ("zhao", "alerts_announce", 201) in logged
    assert ("li", "alerts_announce", 403) in logged
    assert ("zhao", "console.alerts", 422) in logged
