"""kb.console without a gateway: service hours, availability, queue places, claim,
requeue, feedback, metrics and CSV, passwords and lockout (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from kb.console import queue
from kb.console.availability import HoursError, in_service_hours, librarian_available, parse_hours
from kb.console.logins import login, session_for, set_password
from kb.console.metrics import report, to_csv
from kb.console.models import ChatStatus
from kb.console.passwords import PasswordError, hash_password, verify_password
from kb.conversations import ConversationMode, conversation_for
from kb.settings import Settings
from kb.staff.service import add_staff


def settings(**kw: object) -> Settings:
    return Settings(**kw)  # type: ignore[arg-type]


def test_service_hours_parse_and_apply() -> None:
    hours = parse_hours("Mon-Fri 08:00-21:00; Sat 09:00-17:00")
    assert hours[0] == [(480, 1260)] and hours[5] == [(540, 1020)] and 6 not in hours
    with pytest.raises(HoursError):
        parse_hours("weekdays 8-9")
    s = settings(console_service_hours="Mon-Fri 08:00-21:00", console_timezone="Asia/Shanghai")
    monday_9_shanghai = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    sunday_noon_shanghai = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
    assert in_service_hours(s, monday_9_shanghai)
    assert not in_service_hours(s, sunday_noon_shanghai)


def _staff(session: Session, name: str, online: bool = True):  # type: ignore[no-untyped-def]
    member = add_staff(session, name, library_code=None).member
    set_password(session, name, "a long enough password")
    if online:
        member.console_status = "online"
        member.last_seen_at = datetime.now(UTC)
    return member


def test_queue_places_claim_race_requeue_and_feedback(session: Session, backend: str) -> None:
    s = settings()
    assert not librarian_available(session, s)
    li, wang = _staff(session, "li"), _staff(session, "wang")
    assert librarian_available(session, s)
    convs = [conversation_for(session, "web", f"patron-{i}") for i in range(3)]
    chats = [queue.request_chat(session, c, "intent") for c in convs]
    assert queue.request_chat(session, convs[0], "intent").id == chats[0].id  # once
    assert all(c.mode == ConversationMode.WAITING for c in convs)
    places = queue.places(session, s)
    assert [p.position for p in places] == [1, 2, 3]
    assert places[0].wait_minutes <= places[2].wait_minutes

    queue.claim(session, chats[0].id, li)
    with pytest.raises(queue.QueueError) as lost:
        queue.claim(session, chats[0].id, wang)
    assert lost.value.code == "taken"
    assert convs[0].mode == ConversationMode.HUMAN
    assert [p.position for p in queue.places(session, s)] == [1, 2]

    # Only while unclaimed may the patron go back to the bot.
    assert queue.cancel(session, convs[0]) is None
    assert queue.cancel(session, convs[1]) is not None and convs[1].mode == ConversationMode.BOT

    # li's console goes quiet: after the grace period the chat is queued again, once.
    li.last_seen_at = datetime.now(UTC) - timedelta(minutes=5)
    stale = queue.abandoned(session, settings(console_grace_seconds=60))
    assert [c.id for c in stale] == [chats[0].id]
    assert queue.requeue(session, chats[0].id, li.id) is not None
    assert queue.requeue(session, chats[0].id, li.id) is None
    assert chats[0].status == ChatStatus.QUEUED and convs[0].mode == ConversationMode.WAITING

    queue.claim(session, chats[0].id, wang)
    queue.note_reply(session, chats[0])
    queue.transfer(session, chats[0].id, wang, "li")
    with pytest.raises(queue.QueueError):
        queue.close(session, chats[0].id, wang)  # not hers any more
    queue.close(session, chats[0].id, li)
    assert convs[0].mode == ConversationMode.BOT
    assert queue.awaiting_feedback(session, convs[0].id) is not None
    chats[0].rating = 4

    rep = report(session, days=1)
    assert rep.overall["chats"] == 3 and rep.overall["answered"] == 1
    assert rep.overall["rating_avg"] == 4.0
    assert "li" in rep.per_librarian
    assert rep.handoff_rate == 1.0
    csv = to_csv(rep)
    assert csv.splitlines()[0].startswith("scope,key,chats")


def test_passwords_and_lockout(session: Session) -> None:
    with pytest.raises(PasswordError):
        hash_password("short")
    stored = hash_password("a long enough password")
    assert stored.startswith("$argon2id$")
    assert verify_password("a long enough password", stored)
    assert not verify_password("wrong", stored)
    assert not verify_password("anything", None)

    _staff(session, "li", online=False)
    s = settings(console_max_failures=2, console_lockout_minutes=10)
    now = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    assert login(session, s, "li", "nope", now).problem == "wrong"
    assert login(session, s, "li", "nope", now).problem == "locked"
    assert login(session, s, "li", "a long enough password", now).problem == "locked"
    later = now + timedelta(minutes=11)
    ok = login(session, s, "li", "a long enough password", later)
    assert ok.token and session_for(session, ok.token, later) is not None
    assert session_for(session, ok.token, later + timedelta(hours=13)) is None
    set_password(session, "li", "another long password")  # signs consoles out
    assert session_for(session, ok.token, later) is None


def test_replies_to_other_channels_go_through_the_outbound_queue(session: Session) -> None:
    from sqlalchemy import select

    from bot.live import steps
    from kb.outbound.models import OutboundMessage
    from kb.outbound.service import body_of

    li = _staff(session, "li")
    conv = conversation_for(session, "telegram", "123456")
    conv.language = "zh"
    chat = queue.request_chat(session, conv, "intent")
    joined = steps.claim(session, chat.id, li.id, settings())
    said, line = steps.reply(session, chat.id, li.id, "您好，我来帮您查。")
    assert said.patron.channel == "telegram" and line["speaker"] == "librarian"
    closing = steps.close(session, chat.id, li.id)
    rows = session.scalars(select(OutboundMessage)).all()
    assert [r.channel for r in rows] == ["telegram"] * 3
    bodies = {body_of(r)["text"]: body_of(r) for r in rows}
    assert set(bodies) == {joined.frame["text"], "您好，我来帮您查。", closing.frame["text"]}
    assert len(bodies[closing.frame["text"]]["buttons"]) == 5  # the rating buttons
    assert {r.dedupe_key for r in rows} == {
        f"live:{m}" for m in (joined.message_id, said.message_id, closing.message_id)
    }
    assert steps.intercept(session, conv.id, "4") is not None
    assert steps.intercept(session, conv.id, "跳过") is not None
    assert chat.rating == 4 and chat.comment is None
