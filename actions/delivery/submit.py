"""After the delivery form: open the ticket (or say why not) and forget the form's slots."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import in_db, reply_language, say
from actions.delivery import answers, prompts, records
from actions.delivery.form import SLOTS


class ActionSubmitDelivery(Action):
    def name(self) -> str:
        return "action_submit_delivery"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        reset = [SlotSet(slot, None) for slot in SLOTS]
        citation = answers.citation_from_json(tracker.get_slot("dd_citation"))
        if tracker.get_slot("dd_confirm") != "yes" or citation is None:
            say(dispatcher, language, *prompts.STOPPED)
            return reset
        outcome = await in_db(
            records.submit,
            tracker.sender_id,
            citation,
            tracker.get_slot("dd_service") or "copy",
            tracker.get_slot("dd_delivery") or "email",
            tracker.get_slot("dd_pickup"),
            language,
        )
        if outcome.kind == "unknown_patron":
            say(
                dispatcher,
                language,
                "抱歉，申请没有提交成功，请稍后再试，或联系馆员。",
                "Sorry, the request could not be submitted. Please try again later or ask a "
                "librarian.",
                buttons=[("联系馆员", "Talk to a librarian", "/human_handoff")],
            )
        elif outcome.kind == "incomplete":
            say(
                dispatcher,
                language,
                f"申请没有提交：{outcome.text}。请重新申请。",
                f"The request was not submitted: {outcome.text}. Please start again.",
            )
        else:
            dispatcher.utter_message(text=outcome.text)
        return reset
