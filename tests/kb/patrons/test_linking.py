"""Link codes and merging patrons, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select, text

from kb.conversations import conversation_for
from kb.db import utcnow
from kb.outbound import OutboundMessage, enqueue
from kb.patrons import ChannelIdentity, Patron, identity_for
from kb.patrons.linking import (
    Outcome,
    TooManyCodes,
    issue_code,
    normalise_code,
    redeem_code,
)
from kb.questions import ReferenceQuestion, leave_question


def _two_patrons(session):
    web = identity_for(session, "web", "tok-web")
    wechat = identity_for(session, "wechat", "o-openid-1")
    session.flush()
    assert web.patron_id != wechat.patron_id
    return web, wechat


def test_code_links_the_second_channel_and_moves_everything(session, backend):
    web, wechat = _two_patrons(session)
    web.patron.language = "en"
    web_conv = conversation_for(session, "web", "tok-web")
    wechat_conv = conversation_for(session, "wechat", "o-openid-1")
    question = leave_question(session, wechat_conv, "有《三体》吗", "no_librarian")
    enqueue(session, wechat.patron_id, "您的留言已收到", kind="question")
    gone_id, keep_id = wechat.patron_id, web.patron_id

    issued = issue_code(session, web)
    assert len(issued.code) == 6 and issued.code.isdigit()
    result = redeem_code(session, wechat, issued.code)
    session.commit()

    assert result.outcome == Outcome.LINKED and result.patron_id == keep_id
    assert result.other_channel == "web"
    assert session.get(Patron, gone_id) is None
    owners = {i.channel: i.patron_id for i in session.scalars(select(ChannelIdentity))}
    assert owners == {"web": keep_id, "wechat": keep_id}
    session.refresh(wechat_conv)
    assert wechat_conv.patron_id == web_conv.patron_id == keep_id
    assert session.get(ReferenceQuestion, question.id).patron_id == keep_id
    assert {m.patron_id for m in session.scalars(select(OutboundMessage))} == {keep_id}
    # The preference of the staying patron wins; it had one.
    assert session.get(Patron, keep_id).language == "en"


def test_codes_are_single_use_and_stored_hashed(session, backend):
    web, wechat = _two_patrons(session)
    issued = issue_code(session, web)
    session.commit()
    stored = session.execute(text("SELECT code_hash FROM patron_link_codes")).scalars().all()
    assert issued.code not in " ".join(stored)
    assert redeem_code(session, wechat, issued.code).outcome == Outcome.LINKED
    third = identity_for(session, "telegram", "12345")
    assert redeem_code(session, third, issued.code).outcome == Outcome.INVALID
    # Typing it again in the linked chat is not a success either.
    assert redeem_code(session, wechat, issued.code).outcome == Outcome.INVALID


def test_code_expires_after_ten_minutes(session):
    web, wechat = _two_patrons(session)
    with time_machine.travel(utcnow(), tick=False) as clock:
        issued = issue_code(session, web)
        clock.shift(timedelta(minutes=10, seconds=1))
        assert redeem_code(session, wechat, issued.code).outcome == Outcome.INVALID


def test_a_new_code_replaces_the_old_one(session):
    web, wechat = _two_patrons(session)
    first = issue_code(session, web)
    second = issue_code(session, web)
    assert redeem_code(session, wechat, first.code).outcome == Outcome.INVALID
    assert redeem_code(session, wechat, second.code).outcome == Outcome.LINKED


def test_same_patron_gets_already(session):
    web = identity_for(session, "web", "tok-web")
    issued = issue_code(session, web)
    assert redeem_code(session, web, issued.code).outcome == Outcome.ALREADY


def test_asking_for_codes_is_rate_limited(session):
    web = identity_for(session, "web", "tok-web")
    for _ in range(5):
        issue_code(session, web)
    with pytest.raises(TooManyCodes) as caught:
        issue_code(session, web)
    assert timedelta(0) < caught.value.retry_after <= timedelta(hours=1)


def test_wrong_guesses_lock_the_chat(session):
    web, wechat = _two_patrons(session)
    issued = issue_code(session, web)
    wrong = "000000" if issued.code != "000000" else "111111"
    for _ in range(5):
        assert redeem_code(session, wechat, wrong).outcome == Outcome.INVALID
    # Even the right code is refused while the chat is locked...
    assert redeem_code(session, wechat, issued.code).outcome == Outcome.LOCKED
    # ...and works again once the window has passed (the code lives on if still valid).
    with time_machine.travel(utcnow() + timedelta(minutes=10, seconds=1), tick=False):
        second = issue_code(session, web)
        assert redeem_code(session, wechat, second.code).outcome == Outcome.LINKED


def test_guesses_from_many_chats_burn_live_codes(session, monkeypatch):
    monkeypatch.setenv("REFDESK_LINK_CODE_GUESS_BUDGET", "10")
    from kb.settings import get_settings

    get_settings.cache_clear()
    web, wechat = _two_patrons(session)
    issued = issue_code(session, web)
    wrong = "000000" if issued.code != "000000" else "111111"
    # Fresh web sessions cost nothing, so a per-chat limit alone would not do.
    for i in range(10):
        guesser = identity_for(session, "web", f"guesser-{i}")
        assert redeem_code(session, guesser, wrong).outcome == Outcome.INVALID
    assert redeem_code(session, wechat, issued.code).outcome == Outcome.INVALID


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("123456", "123456"),
        (" 123 456 ", "123456"),
        ("123-456", "123456"),
        ("12345", None),
        ("1234567", None),
        ("abc123", None),
    ],
)
def test_normalise_code(typed, code):
    assert normalise_code(typed) == code
