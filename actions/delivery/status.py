"""Where the patron's own requests are: one ticket by number, or all their open ones."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import in_db, reply_language
from actions.delivery import records
from kb.delivery.tickets import normalize_ticket


def tickets_named(tracker: Tracker) -> list[str]:
    found = [
        normalize_ticket(str(e.get("value") or ""))
        for e in tracker.latest_message.get("entities") or []
        if e.get("entity") == "ticket_id"
    ]
    return list(dict.fromkeys(t for t in found if t))


class ActionTicketStatus(Action):
    def name(self) -> str:
        return "action_ticket_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        lines = await in_db(records.status_of, tracker.sender_id, tickets_named(tracker), language)
        for line in lines:
            dispatcher.utter_message(text=line)
        return []
