"""Department queues in kb.console without a gateway (SQLite): availability per
department, transfer to a department, the queue filtered by department, the claim
rule, the per-department metrics, and the directory's department field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from bot.live import steps
from kb.console import departments, queue
from kb.console.availability import librarian_available, online_librarians
from kb.console.logins import set_password
from kb.console.metrics import report, to_csv
from kb.console.models import ChatStatus
from kb.console.service_hours import add_holiday
from kb.conversations import ConversationMode, conversation_for
from kb.settings import Settings
from kb.staff.service import add_staff
from kb.subjects import SubjectError, as_dict, save_librarian


def _staff(session: Session, name: str, department: str | None, online: bool = True):  # type: ignore[no-untyped-def]
    member = add_staff(session, name, library_code=None, display_name=name.title()).member
    set_password(session, name, "a long enough password")
    member.department = department
    if online:
        member.console_status = "online"
        member.last_seen_at = datetime.now(UTC)
    return member


def _claimed_chat(session: Session, owner, sender: str = "patron-1", language: str = "en"):  # type: ignore[no-untyped-def]
    conv = conversation_for(session, "web", sender)
    conv.language = language
    chat = queue.request_chat(session, conv, "intent")
    queue.claim(session, chat.id, owner, settings=Settings())
    return conv, chat


def test_availability_and_the_transfer_list_per_department(session: Session) -> None:
    s = Settings()
    _staff(session, "li", "Reference")
    _staff(session, "wang", "Subject Services")
    _staff(session, "sun", " subject  services ", online=False)  # one department, typed twice
    _staff(session, "he", "Special Collections", online=False)
    assert online_librarians(session, s) == 2
    assert online_librarians(session, s, department="SUBJECT SERVICES") == 1
    assert librarian_available(session, s, department="Subject Services")
    assert not librarian_available(session, s, department="Special Collections")
    assert not librarian_available(session, s, department="Cataloguing")  # nobody's

    listed = {d.name: (d.members, d.online) for d in departments.departments(session, s)}
    assert listed == {
        "Reference": (1, 1),
        "Subject Services": (2, 1),
        "Special Collections": (1, 0),
    }
    assert departments.find(session, "special collections") == "Special Collections"
    assert departments.find(session, "Cataloguing") is None

    # Outside the service hours (a holiday today) nobody is available, in any department.
    today = datetime.now(UTC).astimezone().date()
    for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
        add_holiday(session, day, "closed", "zhao")
    assert not librarian_available(session, s, department="Subject Services")


def test_transfer_to_a_department_keeps_the_place_and_the_bot_silent(session: Session) -> None:
    s = Settings()
    li = _staff(session, "li", "Reference")
    wang = _staff(session, "wang", "Subject Services")
    _staff(session, "he", "Special Collections", online=False)
    conv, chat = _claimed_chat(session, li, language="zh")
    later = conversation_for(session, "web", "patron-2")
    queue.request_chat(session, later, "intent")
    first_claim = chat.claimed_at

    with pytest.raises(queue.QueueError) as nobody:
        queue.transfer_to_department(session, chat.id, li, "Special Collections", s)
    assert nobody.value.code == "department_offline"
    with pytest.raises(queue.QueueError) as unknown:
        queue.transfer_to_department(session, chat.id, li, "Cataloguing", s)
    assert unknown.value.code == "no_department"
    with pytest.raises(queue.QueueError) as not_owner:
        queue.transfer_to_department(session, chat.id, wang, "Reference", s)
    assert not_owner.value.code == "not_yours"

    said = steps.transfer_to_department(session, chat.id, li.id, "subject services", s)
    assert said.frame["code"] == "transferred"
    assert (
        said.frame["text"]
        == "馆员已将您的对话转给Subject Services，该部门的馆员会尽快接入，请稍候。"
    )
    assert chat.status == ChatStatus.QUEUED and chat.staff_id is None
    assert chat.department == "Subject Services" and chat.transfers == 1
    assert conv.mode == ConversationMode.HUMAN  # the bot does not cut in
    # Its first place: ahead of the patron who asked later.
    assert [c.id for c in queue.queued(session)][0] == chat.id

    state = steps.queue_state(session, s)
    row = next(r for r in state.console["chats"] if r["id"] == chat.id)
    assert row["department"] == "Subject Services" and row["reserved"] and row["transferred"]
    # Waiting patrons are told their places; the transferred one was told of the transfer.
    assert [p.conversation_id for p, _, _ in state.waiting] == [later.id]

    queue.claim(session, chat.id, wang, settings=s)
    assert chat.staff_id == wang.id and conv.mode == ConversationMode.HUMAN
    assert chat.claimed_at == first_claim  # metrics measure from the first librarian


def test_english_transfer_notice(session: Session) -> None:
    li = _staff(session, "li", "Reference")
    _staff(session, "wang", "Subject Services")
    _, chat = _claimed_chat(session, li, language="en")
    said = steps.transfer_to_department(session, chat.id, li.id, "Subject Services", Settings())
    assert said.frame["text"] == (
        "The librarian is transferring your chat to Subject Services; a librarian there will "
        "join you shortly."
    )


def test_a_transferred_chat_gets_the_bot_back_when_nobody_is_online(session: Session) -> None:
    s = Settings()
    li = _staff(session, "li", "Reference")
    wang = _staff(session, "wang", "Subject Services")
    conv, chat = _claimed_chat(session, li, language="zh")
    steps.transfer_to_department(session, chat.id, li.id, "Subject Services", s)
    li.console_status = "offline"
    assert steps.release_stranded(session, s) == []  # wang is still there to take it

    wang.console_status = "offline"
    [(patron, said)] = steps.release_stranded(session, s)
    assert patron.conversation_id == conv.id
    assert "现在没有馆员在线" in said.frame["text"] and "第 1 位" in said.frame["text"]
    assert conv.mode == ConversationMode.WAITING  # the bot answers again
    assert chat.status == ChatStatus.QUEUED  # and the patron keeps the place
    assert steps.release_stranded(session, s) == []  # told once
    # Like any waiting patron, they may leave the queue now.
    got = steps.intercept(session, conv.id, "机器人")
    assert got is not None and chat.status == ChatStatus.CANCELLED
    assert conv.mode == ConversationMode.BOT


def test_queue_filtered_by_department(session: Session) -> None:
    _staff(session, "li", "Reference")
    _staff(session, "wang", "Subject Services")
    convs = [conversation_for(session, "web", f"p{i}") for i in range(3)]
    general = queue.request_chat(session, convs[0], "intent")
    subject = queue.request_chat(session, convs[1], "offer", department="subject services")
    reference = queue.request_chat(session, convs[2], "offer", department="Reference")
    nobody = queue.request_chat(
        session, conversation_for(session, "web", "p3"), "offer", department="Cataloguing"
    )
    assert subject.department == "Subject Services"  # spelled as on the staff account
    assert nobody.department is None  # no such department: the general queue
    assert [c.id for c in queue.queued(session, "SUBJECT SERVICES")] == [subject.id]
    assert [c.id for c in queue.queued(session)] == [
        general.id,
        subject.id,
        reference.id,
        nobody.id,
    ]

    from bot.console.api import for_librarian

    rows = steps.queue_state(session, Settings()).console["chats"]
    mine_first = [r["id"] for r in for_librarian(rows, "Reference", only_mine=False)]
    assert mine_first == [reference.id, general.id, subject.id, nobody.id]
    assert [r["id"] for r in for_librarian(rows, "Reference", only_mine=True)] == [reference.id]
    assert for_librarian(rows, None, only_mine=True) == []


def test_claim_rule_department_first_then_everyone(session: Session) -> None:
    s = Settings()
    li = _staff(session, "li", "Reference")
    wang = _staff(session, "wang", "Subject Services")
    sun = _staff(session, "sun", None)
    conv = conversation_for(session, "web", "p1")
    chat = queue.request_chat(session, conv, "offer", department="Subject Services")

    # Kept for Subject Services while one of its librarians is online.
    with pytest.raises(queue.QueueError) as kept:
        queue.claim(session, chat.id, li, settings=s)
    assert kept.value.code == "reserved" and "Subject Services" in str(kept.value)
    assert not departments.may_claim(session, s, chat, sun)
    assert departments.may_claim(session, s, chat, wang)

    # wang's console goes quiet: nobody of the department is there, so anyone may claim.
    wang.last_seen_at = datetime.now(UTC) - timedelta(minutes=10)
    assert departments.reserved_for(session, s, chat) is None
    queue.claim(session, chat.id, sun, settings=s)
    assert chat.status == ChatStatus.ACTIVE and chat.staff_id == sun.id


def test_metrics_and_csv_per_department(session: Session) -> None:
    s = Settings()
    li = _staff(session, "li", "Reference")
    wang = _staff(session, "wang", "Subject Services")
    _, chat = _claimed_chat(session, li)
    queue.transfer_to_department(session, chat.id, li, "Subject Services", s)
    queue.claim(session, chat.id, wang, settings=s)
    queue.close(session, chat.id, wang)
    _claimed_chat(session, li, sender="p2")
    rep = report(session, days=1, now=datetime.now(UTC) + timedelta(minutes=1))
    assert rep.overall["chats"] == 2
    assert list(rep.per_department) == ["Subject Services"]
    assert rep.per_department["Subject Services"]["answered"] == 1
    assert "department,Subject Services,1,1," in to_csv(rep)


def test_directory_entries_name_a_department(session: Session) -> None:
    entry = {
        "key": "music-he", "name_zh": "何静", "name_en": "He Jing", "subjects_en": ["music"],
        "email": "he.jing@library.example.edu", "department": " Arts Library ",
    }  # fmt: skip
    row = save_librarian(session, entry, editor="zhao")
    assert row.department == "Arts Library" and as_dict(row)["department"] == "Arts Library"
    save_librarian(session, {"department": ""}, editor="zhao", key="music-he")
    assert row.department is None
    with pytest.raises(SubjectError, match="department"):
        save_librarian(session, {"department": "x" * 101}, editor="zhao", key="music-he")
