"""``cancel_form``: which of the patron's tickets to cancel, a confirmation, then cancelling.

A number that is not the patron's gets the same answer as one that does not exist;
a ticket that is already supplied or closed is not offered, and the patron is told why.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.common import in_db, reply_language, say
from actions.delivery import answers, prompts, records
from actions.delivery.status import tickets_named

DONE = "done"  # nothing (more) to ask: the form ends without cancelling


def needed_slots(slots: dict[str, Any]) -> list[str]:
    return (
        ["cancel_answer"]
        if slots.get("cancel_answer") == DONE
        else ["cancel_target", "cancel_answer"]
    )


class ValidateCancelForm(FormValidationAction):
    def name(self) -> str:
        return "validate_cancel_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[str]:
        return needed_slots(tracker.slots)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        text, intent, _, entities = answers.latest(tracker.latest_message)
        # The engine marks the loop active before validating the first message, so a
        # form that has not asked anything yet (no requested slot) is starting.
        starting = tracker.get_slot("requested_slot") is None
        requested = None if starting else tracker.get_slot("requested_slot")
        updates: dict[str, Any] | None
        if starting:
            updates = {"cancel_target": None, "cancel_answer": None}
            updates.update(await self._target(dispatcher, tracker, language, first=True))
        elif (
            answers.wants_to_stop(text, intent, entities)
            or answers.entity(entities, "dd_answer") == "no"
        ):
            updates = {"cancel_answer": "no"}
        elif requested == "cancel_target":
            updates = await self._target(dispatcher, tracker, language, first=False)
        elif intent == "affirm" or answers.entity(entities, "dd_answer") == "yes":
            updates = {"cancel_answer": "yes"}
        else:
            updates = None
        if not updates:
            if answers.is_interruption(text, intent, free_text=False):
                return []  # another question: rules answer it, then the form asks again
            say(dispatcher, language, *prompts.NOT_UNDERSTOOD)
            updates = {requested or "cancel_target": None}
        slots = {**tracker.slots, **updates}
        next_slot = next((s for s in needed_slots(slots) if slots.get(s) is None), None)
        return [SlotSet(k, v) for k, v in updates.items()] + [SlotSet("requested_slot", next_slot)]

    async def _target(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, language: str, first: bool
    ) -> dict[str, Any]:
        named = tickets_named(tracker)
        if named:
            ticket = named[0]
            found = await in_db(records.check_cancellable, tracker.sender_id, ticket, language)
            if not found.found:
                dispatcher.utter_message(text=records.not_found_text(ticket, language))
                return {"cancel_answer": DONE}
            if not found.cancellable:
                say(
                    dispatcher,
                    language,
                    f"这个申请已经不能取消了：{found.line}",
                    f"That request can no longer be cancelled: {found.line}",
                )
                return {"cancel_answer": DONE}
            return {"cancel_target": ticket}
        if not first:
            return {}
        open_now = await in_db(records.open_tickets, tracker.sender_id)
        if not open_now:
            say(
                dispatcher,
                language,
                "您目前没有可以取消的文献传递申请。",
                "You have no open document delivery requests to cancel.",
            )
            return {"cancel_answer": DONE}
        if len(open_now) == 1:
            return {"cancel_target": open_now[0][0]}
        return {}


class AskCancelTarget(Action):
    def name(self) -> str:
        return "action_ask_cancel_target"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        open_now = await in_db(records.open_tickets, tracker.sender_id)
        buttons = [
            (f"{t} {label}", f"{t} {label}", '/inform{"ticket_id":"' + t + '"}')
            for t, label in open_now[:8]
        ]
        say(
            dispatcher,
            reply_language(tracker),
            "您有多个进行中的申请，要取消哪一个？",
            "You have several open requests. Which one should I cancel?",
            buttons=buttons,
        )
        return []


class AskCancelAnswer(Action):
    def name(self) -> str:
        return "action_ask_cancel_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        ticket = tracker.get_slot("cancel_target")
        language = reply_language(tracker)
        found = await in_db(records.check_cancellable, tracker.sender_id, ticket, language)
        say(
            dispatcher,
            language,
            f"确定要取消这个申请吗？\n{found.line}",
            f"Cancel this request?\n{found.line}",
            buttons=[
                ("确定取消", "Yes, cancel it", prompts.answer("yes")),
                ("不取消", "No, keep it", prompts.answer("no")),
            ],
        )
        return []


class ActionCancelTicket(Action):
    def name(self) -> str:
        return "action_cancel_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        ticket, answer = tracker.get_slot("cancel_target"), tracker.get_slot("cancel_answer")
        reset = [SlotSet("cancel_target", None), SlotSet("cancel_answer", None)]
        if answer == "no":
            say(dispatcher, language, "好的，申请保持不变。", "OK, the request stays as it is.")
        if answer != "yes" or not ticket:
            return reset
        outcome, line = await in_db(records.cancel, tracker.sender_id, ticket, language)
        if outcome == "cancelled":
            say(dispatcher, language, f"已取消：{line}", f"Cancelled: {line}")
        elif outcome == "not_cancellable":
            say(
                dispatcher,
                language,
                f"这个申请已经不能取消了：{line}",
                f"That request can no longer be cancelled: {line}",
            )
        else:
            dispatcher.utter_message(text=records.not_found_text(ticket, language))
        return reset
