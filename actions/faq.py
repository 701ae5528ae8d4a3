"""Answers to policy and service questions, from the FAQ store in kb/ (editable by librarians)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import in_db, reply_language, say
from kb.faq import answer_for


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        selector = (tracker.latest_message.get("response_selector") or {}).get("faq") or {}
        full_key = (selector.get("response") or {}).get("intent_response_key") or ""
        key = full_key.split("/", 1)[1] if "/" in full_key else ""
        answer = await in_db(answer_for, key, language) if key else None
        if answer:
            dispatcher.utter_message(text=answer)
        else:
            say(
                dispatcher,
                language,
                "抱歉，这个问题我暂时没有现成的答案。可以请馆员来回答您。",
                "Sorry, I don't have a ready answer for that. A librarian can answer it for you.",
                buttons=[("联系馆员", "Talk to a librarian", "/human_handoff")],
            )
        return []
