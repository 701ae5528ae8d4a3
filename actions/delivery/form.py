"""``delivery_form``: from a pasted reference to a confirmed request.

The validation action reads each message (answers.py) and decides which slots are
still needed (dynamic required slots): the citation, then only the piece a
librarian still lacks, the service when the item could come either way, the
delivery method, the pickup library or e-mail address when needed, and a
confirmation. A message that is another question is left to the rules (the form
comes back afterwards); "never mind" ends the form.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.common import in_db, reply_language, say
from actions.delivery import answers, prompts, records
from kb.delivery.texts import FIELD_NAMES

SLOTS = (
    "dd_citation",
    "dd_detail",
    "dd_service",
    "dd_delivery",
    "dd_pickup",
    "dd_email",
    "dd_confirm",
)
FREE_TEXT = {"dd_citation", "dd_detail", "dd_email"}


def needed_slots(slots: dict[str, Any]) -> list[str]:
    if slots.get("dd_confirm") == "cancel":
        return ["dd_confirm"]  # filled: the form ends and action_submit_delivery says so
    need = ["dd_citation"]
    citation = answers.citation_from_json(slots.get("dd_citation"))
    if citation is not None and citation.missing():
        need.append("dd_detail")
    need += ["dd_service", "dd_delivery"]
    if slots.get("dd_delivery") == "pickup":
        need.append("dd_pickup")
    if slots.get("dd_delivery") == "email":
        need.append("dd_email")
    return need + ["dd_confirm"]


class ValidateDeliveryForm(FormValidationAction):
    def name(self) -> str:
        return "validate_delivery_form"

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
        # One reading per message, not one per slot: a message answers the question
        # asked (or, when the form starts, pre-fills what the request names).
        language = reply_language(tracker)
        # The engine marks the loop active before validating the first message, so a
        # form that has not asked anything yet (no requested slot) is starting.
        starting = tracker.get_slot("requested_slot") is None
        updates = await self._read(dispatcher, tracker, language, starting)
        if updates is None:
            return []  # another question: the engine rejects the form, rules answer it
        slots = {**tracker.slots, **updates}
        self._infer(slots, updates)
        requested = next((s for s in needed_slots(slots) if slots.get(s) is None), None)
        events = [SlotSet(k, v) for k, v in updates.items()]
        return events + [SlotSet("requested_slot", requested)]

    async def _read(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, language: str, starting: bool
    ) -> dict[str, Any] | None:
        text, intent, _, entities = answers.latest(tracker.latest_message)
        if starting:
            return await self._start(dispatcher, tracker, text, entities, language)
        requested = tracker.get_slot("requested_slot")
        if answers.wants_to_stop(text, intent, entities):
            return {"dd_confirm": "cancel"}
        # A reference pasted at any question (or from an OpenURL link) replaces the item.
        draft = answers.entity(entities, "draft")
        if draft:
            return await self._from_draft(dispatcher, draft, language)
        reader = getattr(self, f"_answer_{requested}", None)
        if reader is None:
            return None
        found = await reader(dispatcher, tracker, text, entities, language)
        if found:
            return found
        if answers.is_interruption(text, intent, requested in FREE_TEXT):
            return None
        if requested not in FREE_TEXT:
            say(dispatcher, language, *prompts.NOT_UNDERSTOOD)
        return {requested: None}  # not an answer: ask again (and not a rejection)

    # --- starting -------------------------------------------------------------------

    async def _start(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        text: str,
        entities: list[dict[str, Any]],
        language: str,
    ) -> dict[str, Any]:
        facts = await in_db(records.patron_facts, tracker.sender_id)
        updates: dict[str, Any] = {slot: None for slot in SLOTS}  # a new request
        updates["dd_pickup"] = facts.home_library
        updates["dd_email"] = "on_file" if facts.email_on_file else None
        draft = answers.entity(entities, "draft")
        if draft:
            updates.update(await self._from_draft(dispatcher, draft, language))
        elif not answers.is_button(text):
            # "inform": the message is only the reference (pasted without asking).
            _, intent, _, _ = answers.latest(tracker.latest_message)
            whole = intent == "inform"
            citation, problems, _ = answers.read_reference(text, entities, whole_text=whole)
            self._explain(dispatcher, problems, language)
            if answers.usable(citation):
                citation = await in_db(records.as_journal_article, citation)
                updates["dd_citation"] = answers.citation_to_json(citation)
            updates["dd_service"] = answers.read_service(text, [])
            updates["dd_delivery"] = answers.read_delivery(text, [])
        return updates

    async def _from_draft(
        self, dispatcher: CollectingDispatcher, token: str, language: str
    ) -> dict[str, Any]:
        found = await in_db(records.draft_citation, token)
        if found.citation is None or not answers.usable(found.citation):
            say(
                dispatcher,
                language,
                "这个链接里的申请草稿已过期或无效，请直接把文献信息发给我。",
                "The request draft from that link has expired or is not valid; please "
                "paste the reference here instead.",
            )
            return {"dd_citation": None}
        for problem in found.problems:
            dispatcher.utter_message(text=problem.get(language) or problem.get("en", ""))
        say(dispatcher, language, "已读取链接中的文献信息。", "I've read the item from your link.")
        return {"dd_citation": answers.citation_to_json(found.citation), "dd_detail": None}

    @staticmethod
    def _explain(dispatcher: CollectingDispatcher, problems: list[Any], language: str) -> None:
        for problem in problems:
            dispatcher.utter_message(
                text=problem.text(language) + ("。" if language == "zh" else ".")
            )

    @staticmethod
    def _infer(slots: dict[str, Any], updates: dict[str, Any]) -> None:
        """Fill what follows from what is known, so it is never asked."""
        citation = answers.citation_from_json(slots.get("dd_citation"))
        if citation is not None and slots.get("dd_service") is None:
            hint = answers.service_hint(citation)
            if hint:
                updates["dd_service"] = slots["dd_service"] = hint
        if slots.get("dd_service") == "loan" and slots.get("dd_delivery") != "pickup":
            # A loan cannot be e-mailed (kb: loan_needs_pickup).
            updates["dd_delivery"] = slots["dd_delivery"] = "pickup"

    # --- answers to each question -----------------------------------------------------

    async def _answer_dd_citation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str,
        entities: list[dict[str, Any]], language: str,
    ) -> dict[str, Any] | None:  # fmt: skip
        _, intent, _, _ = answers.latest(tracker.latest_message)
        citation, problems, result = answers.read_reference(text, entities, whole_text=True)
        identified = bool(result.kind in ("doi", "pmid", "isbn", "issn", "openurl", "citation"))
        if not identified and answers.is_interruption(text, intent, free_text=True):
            return None
        self._explain(dispatcher, problems, language)
        if not answers.usable(citation):
            return {"dd_citation": None} if problems else None
        citation = await in_db(records.as_journal_article, citation)
        return {"dd_citation": answers.citation_to_json(citation), "dd_detail": None}

    async def _answer_dd_detail(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str,
        entities: list[dict[str, Any]], language: str,
    ) -> dict[str, Any] | None:  # fmt: skip
        _, intent, _, _ = answers.latest(tracker.latest_message)
        citation = answers.citation_from_json(tracker.get_slot("dd_citation"))
        if (
            citation is None
            or answers.is_button(text)
            or answers.is_interruption(text, intent, True)
        ):
            return None
        missing = citation.missing()[0]
        value = text.strip().strip('《》"“”')
        if missing == "chapter":
            citation.article_title = value
        elif missing in ("title", "article_title", "journal"):
            setattr(citation, missing, value)
        return {"dd_citation": answers.citation_to_json(citation), "dd_detail": None}

    async def _answer_dd_service(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str,
        entities: list[dict[str, Any]], language: str,
    ) -> dict[str, Any] | None:  # fmt: skip
        service = answers.read_service(text, entities)
        if service is None:
            return None
        updates: dict[str, Any] = {"dd_service": service}
        delivery = answers.read_delivery(text, [])  # "a scan by e-mail" answers both
        if delivery:
            updates["dd_delivery"] = delivery
        return updates

    async def _answer_dd_delivery(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str,
        entities: list[dict[str, Any]], language: str,
    ) -> dict[str, Any] | None:  # fmt: skip
        delivery = answers.read_delivery(text, entities)
        if delivery is None:
            return None
        if delivery == "email" and tracker.get_slot("dd_service") == "loan":
            say(dispatcher, language, *prompts.LOAN_PICKUP)
            return {"dd_delivery": "pickup"}
        updates: dict[str, Any] = {"dd_delivery": delivery}
        address = answers.read_address(text)
        if (
            delivery == "email"
            and address
            and await in_db(records.save_email, tracker.sender_id, address)
        ):
            updates["dd_email"] = "on_file"
        return updates

    async def _answer_dd_pickup(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str,
        entities: list[dict[str, Any]], language: str,
    ) -> dict[str, Any] | None:  # fmt: skip
        chosen = answers.entity(entities, "dd_answer")
        libraries = await in_db(records.lending_libraries)
        for code, name_zh, name_en in libraries:
            if chosen == code or (not answers.is_button(text) and (
                text.strip().upper() == code or name_zh in text or name_en.lower() in text.lower()
            )):  # fmt: skip
                return {"dd_pickup": code}
        return None

    async def _answer_dd_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str,
        entities: list[dict[str, Any]], language: str,
    ) -> dict[str, Any] | None:  # fmt: skip
        address = answers.read_address(text)
        if address is None:
            if "@" in text:
                say(
                    dispatcher, language,
                    f"“{text.strip()}”不是有效的电子邮箱地址。",
                    f"“{text.strip()}” is not a valid e-mail address.",
                )  # fmt: skip
                return {"dd_email": None}
            _, intent, _, _ = answers.latest(tracker.latest_message)
            return None if answers.is_interruption(text, intent, True) else {"dd_email": None}
        # Kept encrypted on the patron record; the tracker only learns that there is one.
        saved = await in_db(records.save_email, tracker.sender_id, address)
        return {"dd_email": "on_file" if saved else None}

    async def _answer_dd_confirm(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str,
        entities: list[dict[str, Any]], language: str,
    ) -> dict[str, Any] | None:  # fmt: skip
        _, intent, _, _ = answers.latest(tracker.latest_message)
        choice = answers.read_confirm(text, intent, entities)
        if choice == "yes":
            return {"dd_confirm": "yes"}
        if choice == "change_citation":
            return {"dd_citation": None, "dd_detail": None, "dd_confirm": None}
        if choice == "change_options":
            return {"dd_service": None, "dd_delivery": None, "dd_confirm": None}
        return None


# --- the form's questions ------------------------------------------------------------
#
# After an interruption the engine picks the next question from the domain's static
# list of slots, not from required_slots, so it may call the asker of a slot that is
# not needed (dd_detail when the item is complete). Every asker therefore asks the
# question that is actually next and says which one it asked.


class AskDeliverySlot(Action):
    slot = ""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        slots = tracker.slots
        wanted = next((s for s in needed_slots(slots) if slots.get(s) is None), self.slot)
        asker = ASKERS.get(wanted, self)
        await asker.ask(dispatcher, tracker, reply_language(tracker))
        return [] if wanted == self.slot else [SlotSet("requested_slot", wanted)]

    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker, language: str) -> None:
        raise NotImplementedError


class AskCitation(AskDeliverySlot):
    slot = "dd_citation"

    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker, language: str) -> None:
        say(dispatcher, language, *prompts.CITATION)


class AskDetail(AskDeliverySlot):
    slot = "dd_detail"

    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker, language: str) -> None:
        citation = answers.citation_from_json(tracker.get_slot("dd_citation"))
        missing = (citation.missing() if citation else None) or ["title"]
        known = prompts.citation_lines(citation, language) if citation else []
        intro = ("我已记下：" if language == "zh" else "So far I have: ") + "; ".join(known)
        names = FIELD_NAMES.get(missing[0], FIELD_NAMES["title"])
        ask = prompts.DETAIL.get(missing[0], (names["zh"], names["en"]))
        lines = [intro if known else "", ask[0] if language == "zh" else ask[1]]
        dispatcher.utter_message(text="\n".join(filter(None, lines)))


class AskService(AskDeliverySlot):
    slot = "dd_service"

    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker, language: str) -> None:
        say(dispatcher, language, *prompts.SERVICE, buttons=prompts.SERVICE_BUTTONS)


class AskDelivery(AskDeliverySlot):
    slot = "dd_delivery"

    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker, language: str) -> None:
        say(dispatcher, language, *prompts.DELIVERY, buttons=prompts.DELIVERY_BUTTONS)


class AskPickup(AskDeliverySlot):
    slot = "dd_pickup"

    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker, language: str) -> None:
        libraries = await in_db(records.lending_libraries)
        buttons = [(zh, en, prompts.answer(code)) for code, zh, en in libraries]
        say(dispatcher, language, *prompts.PICKUP, buttons=buttons)


class AskEmail(AskDeliverySlot):
    slot = "dd_email"

    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker, language: str) -> None:
        say(dispatcher, language, *prompts.EMAIL)


class AskConfirm(AskDeliverySlot):
    slot = "dd_confirm"

    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker, language: str) -> None:
        citation = answers.citation_from_json(tracker.get_slot("dd_citation"))
        if citation is None:
            return
        pickup = tracker.get_slot("dd_pickup")
        pickup_name = await in_db(records.library_name, pickup, language) if pickup else None
        text = prompts.summary(
            citation,
            tracker.get_slot("dd_service") or "copy",
            tracker.get_slot("dd_delivery") or "email",
            pickup_name,
            tracker.get_slot("dd_email") == "on_file",
            language,
        )
        say(dispatcher, language, text, text, buttons=prompts.CONFIRM_BUTTONS)


ASKERS: dict[str, AskDeliverySlot] = {
    cls.slot: cls()
    for cls in (AskCitation, AskDetail, AskService, AskDelivery, AskPickup, AskEmail, AskConfirm)
}
