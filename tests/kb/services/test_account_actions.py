"""The account actions without an ILS configured: they say so, in the patron's language."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.account import ActionMyAccount, ActionRenewLoan, mask


def _tracker(text: str, language: str) -> Tracker:
    return Tracker(
        sender_id="web-test",
        slots={"language": language},
        latest_message={"text": text, "intent": {"name": "my_account"}, "entities": []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@pytest.mark.parametrize(
    ("action", "text", "language", "expected"),
    [
        (ActionMyAccount(), "我借了哪些书", "zh", "借阅账户服务还没有接入"),
        (ActionRenewLoan(), "renew my books", "en", "account services are not connected"),
    ],
)
async def test_without_ils_settings_the_bot_says_so_and_offers_a_librarian(
    action: Any, text: str, language: str, expected: str
) -> None:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, _tracker(text, language), {})
    assert events == []
    [message] = dispatcher.messages
    assert expected in message["text"]
    assert message["buttons"][0]["payload"] == "/human_handoff"


def test_card_numbers_are_masked_in_prompts() -> None:
    assert mask("29001") == "29**1"
    assert "2900123" not in mask("2900123")


async def test_asking_for_the_pin_leaves_a_prompt_for_the_gateway() -> None:
    from actions.account import ActionIlsAskPin
    from kb.conversations import conversation_for
    from kb.db import session_scope
    from kb.ils.prompts import pin_expected
    from kb.migrate import upgrade
    from kb.settings import get_settings

    url = get_settings().database_url
    upgrade(url)
    with session_scope(url) as session:
        conv = conversation_for(session, "web", "tab")
        sender, conv_id = conv.sender_id, conv.id
    tracker = Tracker(
        sender_id=sender,
        slots={"language": "en", "library_barcode": "29001", "ils_purpose": "renew_loan"},
        latest_message={"text": "29001", "intent": {"name": "nlu_fallback"}, "entities": []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="account_login_form",
    )
    dispatcher = CollectingDispatcher()
    await ActionIlsAskPin().run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    assert "PIN of card 29**1" in message["text"] and message["custom"] == {"secret_input": True}
    assert message["buttons"][0]["payload"] == '/renew_loan{"ils_login":"cancelled"}'
    with session_scope(url) as session:
        assert pin_expected(session, conv_id)
