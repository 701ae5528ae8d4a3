"""kb/acquisitions, kb/subjects, kb/feedback and the PIN prompts, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from kb import acquisitions, feedback, subjects
from kb.catalog.sample import load_sample
from kb.conversations import conversation_for
from kb.ils.prompts import expect_pin, pin_expected, take_pin_prompt
from kb.outbound import OutboundMessage
from kb.outbound.service import body_of


def _conv(session: Session, external: str, language: str = "zh"):  # type: ignore[no-untyped-def]
    conv = conversation_for(session, "web", external)
    conv.language = language
    conv.patron.language = language
    session.flush()
    return conv


# --- purchase suggestions ---------------------------------------------------------------


def test_purchase_suggestions_duplicates_decisions_and_notices(
    session: Session, backend: str
) -> None:
    load_sample(session)
    first = _conv(session, "patron-a", "zh")
    second = _conv(session, "patron-b", "en")

    # Already held: nothing stored, the patron is told where.
    held = acquisitions.suggest_purchase(
        session, title="《三体》", author="刘慈欣", isbn=None, reason="想看",
        sender_id=first.sender_id, language="zh",
    )  # fmt: skip
    assert held.kind == "held" and held.held is not None
    assert held.held.title == "三体" and held.held.availability
    by_isbn = acquisitions.suggest_purchase(
        session, title="Three Body", author=None, isbn="978-7-5366-9293-0", reason=None,
        sender_id=first.sender_id, language="zh",
    )  # fmt: skip
    assert by_isbn.kind == "held"
    # Authors as catalogs write them ("Le Guin, Ursula K.") match as patrons type them.
    inverted = acquisitions.suggest_purchase(
        session, title="The Left Hand of Darkness", author="Ursula K. Le Guin", isbn=None,
        reason=None, sender_id=first.sender_id, language="zh",
    )  # fmt: skip
    assert inverted.kind == "held"
    assert acquisitions.list_suggestions(session) == []

    # New, then the same item again (other spelling, no author): joined, not duplicated.
    made = acquisitions.suggest_purchase(
        session, title="Always Coming Home", author="Ursula K. Le Guin", isbn=None,
        reason="for my SF course", sender_id=first.sender_id, language="zh",
    )  # fmt: skip
    assert made.kind == "created" and made.suggestion is not None
    assert made.suggestion.reference == f"PS-{made.suggestion.id:06d}"
    again = acquisitions.suggest_purchase(
        session, title="always coming home", author=None, isbn=None, reason=None,
        sender_id=second.sender_id, language="en",
    )  # fmt: skip
    assert again.kind == "joined" and again.suggestion is made.suggestion
    assert len(made.suggestion.supporters) == 2
    # Suggesting it twice from one patron does not count twice.
    acquisitions.suggest_purchase(
        session, title="Always Coming Home", author="Ursula K. Le Guin", isbn=None, reason=None,
        sender_id=first.sender_id, language="zh",
    )  # fmt: skip
    assert len(made.suggestion.supporters) == 2

    with pytest.raises(acquisitions.SuggestionError):
        acquisitions.suggest_purchase(
            session, title="  ", author=None, isbn=None, reason=None, sender_id=None, language=None
        )
    with pytest.raises(acquisitions.SuggestionError, match="reason"):
        acquisitions.decide(session, made.suggestion.id, accept=False, note=" ", staff="li")
    decided = acquisitions.decide(
        session, made.suggestion.id, accept=False, note="out of print", staff="li"
    )
    assert decided.status == acquisitions.SuggestionStatus.DECLINED
    with pytest.raises(acquisitions.AlreadyDecided):
        acquisitions.decide(session, made.suggestion.id, accept=True, note=None, staff="li")
    with pytest.raises(acquisitions.SuggestionNotFound):
        acquisitions.decide(session, 99999, accept=True, note=None, staff="li")

    notices = {
        m.patron_id: body_of(m)["text"]
        for m in session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "purchase_decision"))
    }  # fmt: skip
    assert "没有被采纳" in notices[first.patron_id] and "out of print" in notices[first.patron_id]
    assert "not accepted" in notices[second.patron_id]

    # A declined suggestion is no longer open: suggesting it again opens a new one.
    fresh = acquisitions.suggest_purchase(
        session, title="Always Coming Home", author=None, isbn=None, reason=None,
        sender_id=second.sender_id, language="en",
    )  # fmt: skip
    assert fresh.kind == "created"
    accepted = acquisitions.decide(session, fresh.suggestion.id, accept=True, note=None, staff="li")  # type: ignore[union-attr]
    assert accepted.status == acquisitions.SuggestionStatus.ACCEPTED
    assert [
        s.id for s in acquisitions.list_suggestions(session, acquisitions.SuggestionStatus.OPEN)
    ] == []
    assert acquisitions.as_dict(accepted)["supporters"] == 1


# --- subject librarians -------------------------------------------------------------------


def test_subject_directory_loads_once_finds_fields_and_validates_edits(
    session: Session, backend: str
) -> None:
    assert subjects.load_bundled(session) >= 6
    assert subjects.load_bundled(session) == 0  # only into an empty directory
    [chem] = subjects.librarians_for(session, "化学")[:1]
    assert chem.key == "chemistry-zhang"
    assert subjects.librarians_for(session, "有机化学")[0].key == "chemistry-zhang"
    assert subjects.librarians_for(session, "Economics")[0].key == "economics-chen"
    assert subjects.librarians_for(session, "who covers machine learning?")[0].key == "computing-li"
    assert subjects.librarians_for(session, "烹饪") == []

    row = subjects.save_librarian(
        session,
        {"key": "music-he", "name_zh": "何静", "name_en": "He Jing", "subjects_zh": ["音乐"],
         "subjects_en": ["music"], "email": "he.jing@library.example.edu", "languages": ["zh"]},
        editor="admin",
    )  # fmt: skip
    assert subjects.librarians_for(session, "音乐") == [row]
    subjects.save_librarian(session, {"active": False}, editor="admin", key="music-he")
    assert subjects.librarians_for(session, "音乐") == []
    for bad, message in (
        ({"key": "Bad Key"}, "key"),
        ({"key": "chemistry-zhang"}, "already used"),
        ({"key": "x", "name_zh": "X", "name_en": "X", "email": "x@y"}, "subject"),
        ({"key": "y", "name_zh": "Y", "name_en": "Y", "subjects_en": ["art"]}, "contact"),
        ({"key": "z", "name_zh": "Z", "name_en": "Z", "subjects_en": ["art"], "phone": "1",
          "languages": ["fr"]}, "languages"),
    ):  # fmt: skip
        with pytest.raises(subjects.SubjectError, match=message), session.begin_nested():
            subjects.save_librarian(session, bad, editor="admin")
    with pytest.raises(subjects.LibrarianNotFound):
        subjects.save_librarian(session, {}, editor="admin", key="nobody")
    subjects.delete_librarian(session, "music-he")
    assert "music-he" not in {r.key for r in subjects.active_librarians(session)}


# --- feedback -------------------------------------------------------------------------------


def test_feedback_is_kept_with_its_conversation_and_counted(session: Session, backend: str) -> None:
    conv = _conv(session, "patron-f")
    complaint = feedback.leave_feedback(
        session, "三楼自习室太吵了，希望管一管", sender_id=conv.sender_id, language="zh"
    )
    assert complaint.kind == feedback.FeedbackKind.COMPLAINT
    assert complaint.conversation_id == conv.id and complaint.channel == "web"
    praise = feedback.leave_feedback(
        session, "The staff at the desk were so helpful, thank you!", sender_id=None
    )
    assert praise.kind == feedback.FeedbackKind.PRAISE and praise.conversation_id is None
    suggestion = feedback.leave_feedback(session, "建议周末延长开放时间", sender_id=conv.sender_id)
    assert suggestion.kind == feedback.FeedbackKind.SUGGESTION
    with pytest.raises(feedback.FeedbackError):
        feedback.leave_feedback(session, "   ", sender_id=None)
    assert feedback.counts_by_kind(session) == {
        "complaint": 1, "praise": 1, "suggestion": 1, "other": 0
    }  # fmt: skip
    assert [f.id for f in feedback.list_feedback(session, kind=feedback.FeedbackKind.PRAISE)] == [
        praise.id
    ]
    assert feedback.as_dict(complaint)["text"] == "三楼自习室太吵了，希望管一管"


# --- PIN prompts ------------------------------------------------------------------------------


def test_pin_prompt_is_used_once_and_expires(session: Session, backend: str) -> None:
    conv = _conv(session, "patron-p")
    assert not expect_pin(
        session, "no-such-sender", "29001", "my_account", ttl=timedelta(minutes=5)
    )
    assert expect_pin(session, conv.sender_id, "29001", "renew_loan", ttl=timedelta(minutes=5))
    assert pin_expected(session, conv.id)
    # Only the card number is kept, encrypted: never anything typed later.
    raw = session.execute(text("SELECT barcode FROM ils_pin_prompts")).scalar_one()
    assert "29001" not in raw
    taken = take_pin_prompt(session, conv.id)
    assert taken is not None and taken.barcode == "29001" and taken.purpose == "renew_loan"
    assert take_pin_prompt(session, conv.id) is None
    assert not pin_expected(session, conv.id)
    expect_pin(session, conv.sender_id, "29001", "my_account", ttl=timedelta(seconds=-1))
    assert not pin_expected(session, conv.id)
    assert take_pin_prompt(session, conv.id) is None  # expired: gone, and not a PIN
    with pytest.raises(ValueError):
        expect_pin(session, conv.sender_id, "29001", "feedback", ttl=timedelta(minutes=5))
