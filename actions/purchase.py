"""Purchase suggestions: a short form, duplicate checks, stored in kb/acquisitions.

The form asks for the title, the author, the ISBN if known and why. If the
consortium already holds the item the patron is told where (and nothing is
stored); if someone already suggested it, the patron joins that suggestion.
Librarians decide through the staff API and the patron hears the outcome here.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.catalog import first_entity
from actions.common import in_db, reply_language, say
from kb.acquisitions import clean_isbn, held_in_catalog, suggest_purchase
from kb.catalog.search.results import describe_availability

SLOTS = ("purchase_title", "purchase_author", "purchase_isbn", "purchase_reason")
SKIP = "-"
_SKIP_WORDS = {"不知道", "不清楚", "没有", "无", "跳过", "不记得", "忘了", "略", "skip", "no",
               "none", "dontknow", "idontknow", "unknown", "na", "n/a", "idk", "nope", "-"}  # fmt: skip
_CANCEL_WORDS = {"取消", "算了", "不要了", "不用了", "cancel", "nevermind", "stop", "quit"}


def _folded(text: str) -> str:
    return re.sub(r"[\s'’.!?。！？]+", "", text.casefold())


def is_skip(text: str) -> bool:
    return _folded(text) in _SKIP_WORDS


def is_cancel(text: str) -> bool:
    return _folded(text) in _CANCEL_WORDS


class ActionSuggestPurchase(Action):
    """The intent: start the form with whatever the message already named."""

    def name(self) -> str:
        return "action_suggest_purchase"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        say(
            dispatcher,
            reply_language(tracker),
            "好的，欢迎推荐图书馆购买。我问几个简单的问题。",
            "Happy to take a purchase suggestion. Just a few quick questions.",
        )
        isbn = first_entity(tracker, "isbn")
        return [
            SlotSet("purchase_title", first_entity(tracker, "title")),
            SlotSet("purchase_author", first_entity(tracker, "author")),
            SlotSet("purchase_isbn", isbn),
            SlotSet("purchase_reason", None),
            FollowupAction("purchase_form"),
        ]


class ValidatePurchaseForm(FormValidationAction):
    def name(self) -> str:
        return "validate_purchase_form"

    async def validate_purchase_title(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip().strip("《》\"“”'")
        if is_cancel(text):
            return {slot: SKIP for slot in SLOTS}
        if not text or is_skip(text):
            say(
                dispatcher,
                reply_language(tracker),
                "需要知道书名才能推荐购买。",
                "I need the title to pass the suggestion on.",
            )
            return {"purchase_title": None}
        return {"purchase_title": text[:500]}

    async def validate_purchase_author(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        return {"purchase_author": SKIP if not text or is_skip(text) else text[:300]}

    async def validate_purchase_isbn(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        language = reply_language(tracker)
        isbn: str | None = None
        if text and not is_skip(text):
            isbn = clean_isbn(text)
            if isbn is None:
                say(
                    dispatcher,
                    language,
                    f"“{text}”不是有效的 ISBN（可能有一位抄错了）。请再发一次，或回复“跳过”。",
                    f"“{text}” is not a valid ISBN (a digit may be mistyped). Send it again, "
                    "or say 'skip'.",
                )
                return {"purchase_isbn": None}
        title = tracker.get_slot("purchase_title") or ""
        author = tracker.get_slot("purchase_author")
        author = None if author in (None, SKIP) else author
        held = await in_db(held_in_catalog, title, author, isbn)
        if held is not None:
            # No need to ask why: the last step tells the patron where it is.
            return {"purchase_isbn": isbn or SKIP, "purchase_reason": SKIP}
        return {"purchase_isbn": isbn or SKIP}

    async def validate_purchase_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        return {"purchase_reason": SKIP if not text or is_skip(text) else text[:2000]}


def _value(tracker: Tracker, slot: str) -> str | None:
    value = tracker.get_slot(slot)
    return None if value in (None, SKIP) else str(value)


class ActionSubmitPurchase(Action):
    def name(self) -> str:
        return "action_submit_purchase"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        clear = [SlotSet(slot, None) for slot in SLOTS]
        title = _value(tracker, "purchase_title")
        if title is None:
            say(dispatcher, language, "好的，没有提交推荐。", "OK, no suggestion was made.")
            return clear
        outcome = await in_db(
            lambda session: suggest_purchase(
                session,
                title=title,
                author=_value(tracker, "purchase_author"),
                isbn=_value(tracker, "purchase_isbn"),
                reason=_value(tracker, "purchase_reason"),
                sender_id=tracker.sender_id,
                language=language,
            )
        )
        if outcome.kind == "held" and outcome.held is not None:
            held = outcome.held
            where = describe_availability(held.availability, language)
            say(
                dispatcher,
                language,
                f"好消息：联盟馆藏里已经有《{held.title}》了，不用再买。{where}。",
                f"Good news: the consortium already holds “{held.title}”, so there's no need to "
                f"buy it. {where}.",
                buttons=[
                    (
                        "查看馆藏位置",
                        "Where is it?",
                        f'/check_availability{{"record_id":"{held.record_id}"}}',
                    )
                ],
            )
            return clear
        suggestion = outcome.suggestion
        assert suggestion is not None
        if outcome.kind == "joined":
            say(
                dispatcher,
                language,
                f"已经有读者推荐过《{suggestion.title}》（{suggestion.reference}），正在等待采访馆员"
                "处理。我们记下了您的支持，有结果会在这里告诉您。",
                f"Someone already suggested “{suggestion.title}” ({suggestion.reference}) and "
                "it's waiting for the acquisitions librarian. I've added your support; you'll "
                "hear the outcome here.",
            )
            return clear
        say(
            dispatcher,
            language,
            f"谢谢！您对《{suggestion.title}》的荐购已记录，编号 {suggestion.reference}。"
            "采访馆员决定后会在这里告诉您结果。",
            f"Thank you! Your suggestion to buy “{suggestion.title}” is recorded as "
            f"{suggestion.reference}. You'll hear here what the acquisitions librarian decides.",
        )
        return clear
