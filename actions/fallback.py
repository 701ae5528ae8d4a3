"""What the bot does when it did not understand the patron (NLU fallback) or does not
know what to do next (the dialogue policy's fallback)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.catalog import count_hits, search_payload
from actions.common import in_db, reply_language, say
from kb.console.availability import librarian_available
from kb.settings import get_settings


def fallbacks_in_a_row(tracker: Tracker) -> int:
    """How many of the patron's latest messages in a row the model did not understand."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent != "nlu_fallback":
            break
        count += 1
    return count


class ActionHandleFallback(Action):
    def name(self) -> str:
        return "action_handle_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        if fallbacks_in_a_row(tracker) >= 2:
            if await in_db(lambda session: librarian_available(session, get_settings())):
                # Two misunderstandings in a row and a librarian is on duty: hand over.
                return [FollowupAction("action_handoff")]
            say(
                dispatcher,
                language,
                "抱歉，我还是没理解。要不要请馆员来帮您？",
                "Sorry, I still don't understand. Shall I get a librarian to help you?",
                buttons=[
                    ("联系馆员", "Talk to a librarian", "/human_handoff"),
                    ("搜索馆藏", "Search the catalog", "/search_catalog"),
                ],
            )
            return []
        # A bare title or name the model cannot place may still be in the catalog.
        text = (tracker.latest_message.get("text") or "").strip()
        hits = await in_db(count_hits, text) if 2 <= len(text) <= 200 else 0
        search_button = (
            (
                f"搜索馆藏：“{text}”（{hits}）",
                f"Search the catalog for “{text}” ({hits})",
                search_payload(text),
            )
            if hits
            else ("搜索馆藏", "Search the catalog", "/search_catalog")
        )
        say(
            dispatcher,
            language,
            "抱歉，我没太明白。能换个说法吗？您也可以直接搜索馆藏或联系馆员。",
            "Sorry, I didn't quite get that. Could you rephrase it? You can also search "
            "the catalog or talk to a librarian.",
            buttons=[search_button, ("联系馆员", "Talk to a librarian", "/human_handoff")],
        )
        return []
