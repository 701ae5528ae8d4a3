"""Feedback about the service: kept with the conversation, acknowledged, seen by staff."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import in_db, reply_language, say
from kb.feedback import FeedbackKind, leave_feedback
from kb.feedback.phrases import feedback_in_message

_CANCEL = {"取消", "算了", "没事了", "不用了", "cancel", "nevermind", "no", "nothing"}

THANKS = {
    FeedbackKind.COMPLAINT: (
        "很抱歉给您带来不便。负责的馆员会看到并跟进。",
        "I'm sorry about the trouble. The librarian in charge will see it and follow up.",
    ),
    FeedbackKind.PRAISE: (
        "谢谢您的肯定，我们会转达给相关的同事！",
        "Thank you for the kind words: we'll pass them on to the team!",
    ),
    FeedbackKind.SUGGESTION: (
        "谢谢您的建议，我们会认真考虑。",
        "Thanks for the suggestion: we'll give it proper thought.",
    ),
    FeedbackKind.OTHER: ("谢谢您的意见。", "Thank you for your feedback."),
}


class ActionFeedback(Action):
    def name(self) -> str:
        return "action_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        # "投诉：三楼太吵了" already says it: keep it instead of asking again.
        found = feedback_in_message(tracker.latest_message.get("text") or "")
        if found is None:
            return [SlotSet("feedback_text", None), FollowupAction("feedback_form")]
        text, kind = found
        await _keep(dispatcher, tracker, text, kind)
        return [SlotSet("feedback_text", None)]


async def _keep(
    dispatcher: CollectingDispatcher, tracker: Tracker, text: str, kind: FeedbackKind | None
) -> None:
    language = reply_language(tracker)
    row = await in_db(
        lambda session: leave_feedback(
            session, text, sender_id=tracker.sender_id, kind=kind, language=language
        )
    )
    zh, en = THANKS[row.kind]
    say(
        dispatcher,
        language,
        f"已收到您的反馈（编号 {row.reference}）。{zh}",
        f"Your feedback is recorded as {row.reference}. {en}",
    )


class ActionLeaveFeedback(Action):
    def name(self) -> str:
        return "action_leave_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        text = (tracker.get_slot("feedback_text") or "").strip()
        if not text or re.sub(r"[\s\W_]+", "", text.casefold()) in _CANCEL:
            say(dispatcher, language, "好的，没有提交意见。", "OK, no feedback was left.")
            return [SlotSet("feedback_text", None)]
        await _keep(dispatcher, tracker, text, None)
        return [SlotSet("feedback_text", None)]
