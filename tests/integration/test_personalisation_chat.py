"""Personalised suggestions through the real engine, in Chinese and English: topic-only
suggestions offer the opt-in once; after a yes a catalog search is kept and the next
suggestions say they were picked because of it; withdrawing deletes what was kept."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from kb.conversations import find_conversation
from kb.personalisation.history import searches
from kb.personalisation.models import PastSearch
from kb.privacy import consent
from tests.support.chat import ChatClient, texts

pytestmark = pytest.mark.stack

CASES = {
    "zh": {
        "recommend": "推荐几本人工智能的书",
        "topic_only": "没有使用您过去的检索记录",
        "yes": "好，用我的记录",
        "agreed": "今后推荐会参考",
        "search": "有深度学习方面的书吗",
        "searched": "深度学习",
        "because": "因为您检索过“深度学习”",
        "blended": "结合了您订阅的主题和检索记录",
        "withdraw": "别用我的记录推荐",
        "withdrawn": "已删除保存的 1 条检索记录",
    },
    "en": {
        "recommend": "recommend some books on artificial intelligence",
        "topic_only": "your past searches were not used",
        "yes": "Yes, use my history",
        "agreed": "Suggestions will now take your alert topics",
        "search": "books about machine learning",
        "searched": "machine learning",
        "because": "because you searched for “machine learning”",
        "blended": "Blended with your alert topics and past searches",
        "withdraw": "stop using my history",
        "withdrawn": "the 1 searches kept were deleted",
    },
}


def offer_buttons(replies: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        b
        for r in replies
        for b in r.get("buttons", [])
        if b["payload"].startswith("/personalise_recommendations")
    ]


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_opt_in_blends_history_and_withdrawal_deletes_it(
    stack,  # type: ignore[no-untyped-def]
    chat: ChatClient,
    language: str,
) -> None:
    case = CASES[language]
    first = await chat.say(case["recommend"])
    assert case["topic_only"] in texts(first), texts(first)
    offer = offer_buttons(first)
    assert len(offer) == 2, first
    again = await chat.say(case["recommend"])  # undecided, but asked once only
    assert case["topic_only"] in texts(again) and not offer_buttons(again)

    agreed = await chat.click(next(b for b in offer if b["title"] == case["yes"]))
    assert case["agreed"] in texts(agreed), texts(agreed)
    found = await chat.say(case["search"])
    assert "1." in texts(found), texts(found)

    with stack.db() as session:
        conv = find_conversation(session, "web", chat.session)
        assert conv is not None
        patron_id = conv.patron_id
        assert [s.query for s in searches(session, patron_id)] == [case["searched"]]

    blended = await chat.say(case["recommend"])
    text = texts(blended)
    assert case["because"] in text and case["blended"] in text, text
    assert not offer_buttons(blended)

    withdrawn = await chat.say(case["withdraw"])
    assert case["withdrawn"] in texts(withdrawn), texts(withdrawn)
    with stack.db() as session:
        assert (
            session.scalars(select(PastSearch).where(PastSearch.patron_id == patron_id)).all() == []
        )
        assert not consent.has_consent(session, patron_id, consent.PERSONALISATION)

    after = await chat.say(case["recommend"])
    assert case["topic_only"] in texts(after) and case["because"] not in texts(after)
    assert not offer_buttons(after)  # they decided: no offer any more
    await chat.say(case["search"])
    with stack.db() as session:
        assert searches(session, patron_id) == []  # nothing kept after withdrawal


def _consent_history(stack, session_token: str) -> list[tuple[bool, bool]]:  # type: ignore[no-untyped-def]
    """(granted, is a refusal of the offer) for each personalisation event of the patron."""
    from kb.personalisation import consent as personalisation

    with stack.db() as session:
        conv = find_conversation(session, "web", session_token)
        assert conv is not None
        return [
            (e.granted, personalisation.is_refusal(e))
            for e in consent.history(session, conv.patron_id)
            if e.purpose == consent.PERSONALISATION
        ]


async def test_a_no_is_remembered_for_the_patron_not_the_conversation(
    stack,  # type: ignore[no-untyped-def]
    chat: ChatClient,
) -> None:
    """Declined in one conversation: a second conversation of the same patron (another
    chat linked to the first) is not asked again, until the pause is over; saying yes
    in so many words still opts in."""
    import re
    from datetime import timedelta

    from kb.personalisation import consent as personalisation

    case = CASES["en"]
    first = await chat.say(case["recommend"])
    no = next(b for b in offer_buttons(first) if b["title"] == "No, thanks")
    assert "only the topic you name" in texts(await chat.click(no))
    assert _consent_history(stack, chat.session) == [(False, True)]  # a refusal, with its time

    # A new conversation (a second web chat), linked to the first: the same patron.
    code = re.search(r"\b(\d{6})\b", texts(await chat.say("link my account")))
    assert code, "no link code"
    other = await ChatClient(stack.ws_url).connect()
    try:
        assert "linked" in texts(await other.say(f"link {code.group(1)}"))
        asked = await other.say(case["recommend"])
        assert case["topic_only"] in texts(asked) and not offer_buttons(asked), texts(asked)

        # Past the pause (REFDESK_PRIVACY_REOFFER_DAYS, 90) the offer comes back once.
        with stack.db() as session:
            conv = find_conversation(session, "web", other.session)
            assert conv is not None
            refusal = consent.latest(session, conv.patron_id, consent.PERSONALISATION)
            assert refusal is not None
            refusal.recorded_at -= timedelta(days=91)
        again = await other.say(case["recommend"])
        assert len(offer_buttons(again)) == 2, texts(again)

        # Opting in by saying so, without the buttons.
        agreed = await other.say("turn on personalised suggestions")
        assert case["agreed"] in texts(agreed), texts(agreed)
        assert _consent_history(stack, chat.session) == [(False, True), (True, False)]
        with stack.db() as session:
            conv = find_conversation(session, "web", chat.session)
            assert conv is not None
            assert personalisation.has_consent(session, conv.patron_id)
        blended = await chat.say(case["recommend"])  # the first chat: the same patron
        assert case["blended"] in texts(blended) and not offer_buttons(blended)
    finally:
        await other.close()
