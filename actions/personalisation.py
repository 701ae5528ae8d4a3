"""The patron's yes / no to personalised suggestions, and keeping their catalog
searches for them (kb.personalisation: nothing is kept without that yes)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.common import in_db, reply_language, say
from kb.patrons.service import patron_for_sender
from kb.personalisation import consent as personalisation
from kb.personalisation.history import record_search
from kb.privacy import consent

WITHDRAW_INTENT = "withdraw_personalisation"


def _decide(
    session: Session, sender: str, granted: bool, withdraw: bool, language: str
) -> int | None:
    """Record the decision; the searches deleted on a withdrawal, None when no patron is
    known. A "no" from a patron who never said yes is a refusal of the offer (it pauses
    the offer); "stop using my history", or a no after a yes, withdraws."""
    patron = patron_for_sender(session, sender)
    if patron is None:
        return None
    latest = consent.latest(session, patron.id, personalisation.PURPOSE)
    consenting = latest is not None and latest.granted
    if granted:
        if not consenting:
            personalisation.record(session, patron.id, True, source="chat", language=language)
        return 0
    if consenting or withdraw:
        if latest is not None and not latest.granted and not personalisation.is_refusal(latest):
            return 0  # withdrawn already: the history says so
        return personalisation.record(session, patron.id, False, source="chat")[1]
    personalisation.refuse(session, patron.id, source="chat", language=language)
    return 0


def _remember(session: Session, sender: str, query: str) -> bool:
    patron = patron_for_sender(session, sender)
    return patron is not None and record_search(session, patron.id, query)


async def remember_search(sender: str, query: str) -> None:
    """Keep a catalog search for suggestions, only if the patron said yes."""
    await in_db(_remember, sender, query)


def offer_personalisation(dispatcher: CollectingDispatcher, language: str) -> None:
    """Asked until the patron answers; after a no, again only after the pause."""
    say(
        dispatcher,
        language,
        personalisation.WORDING["zh"],
        personalisation.WORDING["en"],
        buttons=[
            (
                "好，用我的记录",
                "Yes, use my history",
                '/personalise_recommendations{"consent": "yes"}',
            ),
            ("不用了", "No, thanks", '/personalise_recommendations{"consent": "no"}'),
        ],
    )


class ActionPersonaliseRecommendations(Action):
    def name(self) -> str:
        return "action_personalise_recommendations"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        value = str(tracker.get_slot("consent") or "").lower()
        withdraw = intent == WITHDRAW_INTENT
        if not withdraw and value not in ("yes", "no"):
            # Understood as being about personalisation, but not whether yes or no:
            # ask, rather than record a refusal the patron never gave.
            offer_personalisation(dispatcher, language)
            return [SlotSet("consent", None), SlotSet("personalisation_offered", True)]
        granted = not withdraw and value == "yes"
        deleted = await in_db(_decide, tracker.sender_id, granted, withdraw, language)
        if granted:
            say(
                dispatcher,
                language,
                "好的。今后推荐会参考您订阅的主题和在这里做过的检索，并说明理由。"
                "随时说“别用我的记录推荐”即可停止。",
                "Done. Suggestions will now take your alert topics and the searches you make "
                "here into account, and say so. Say “stop using my history” at any time.",
            )
        elif deleted:
            say(
                dispatcher,
                language,
                f"好的，推荐不再使用您的记录，已删除保存的 {deleted} 条检索记录。",
                f"Done: suggestions no longer use your history, and the {deleted} searches "
                "kept were deleted.",
            )
        else:
            say(
                dispatcher,
                language,
                "好的，推荐只根据您说的主题，不使用您的订阅和检索记录。",
                "OK: suggestions use only the topic you name, never your alert topics or searches.",
            )
        return [SlotSet("consent", None), SlotSet("personalisation_offered", True)]
