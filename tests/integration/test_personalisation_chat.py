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
