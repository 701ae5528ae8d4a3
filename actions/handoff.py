"""Reaching a librarian. With a librarian on duty (console online, service hours) the
patron joins the live-chat queue (the gateway tells them their place and wait);
with nobody on duty they leave a question, answered later here."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.common import in_db, reply_language, say
from kb.console.availability import librarian_available
from kb.console.queue import request_chat
from kb.conversations import Conversation
from kb.questions import leave_question
from kb.settings import get_settings

NO_LIBRARIAN = "no_librarian"
# Short replies that mean "never mind" while we wait for the question text.
_CANCEL = {"deny", "goodbye", "thank"}


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        queued = await in_db(_join_queue, tracker.sender_id, _trigger(tracker))
        if queued is not None:
            if queued:
                say(
                    dispatcher,
                    language,
                    "正在为您联系馆员，请稍候。在馆员接入之前，我仍可以回答您的问题；"
                    "输入“机器人”可取消排队。",
                    "I'm connecting you to a librarian; please wait. Until one joins I can "
                    'still help; type "bot" to leave the queue.',
                )
            else:
                say(
                    dispatcher,
                    language,
                    "您已经在等候馆员了，请稍候。",
                    "You are already waiting for a librarian; please hold on.",
                )
            return []
        say(
            dispatcher,
            language,
            "现在没有馆员在线。您可以留下问题，馆员上班后会在这里回复您。",
            "No librarian is online right now. You can leave your question and a librarian "
            "will answer you here.",
        )
        return [SlotSet("question_text", None), FollowupAction("question_form")]


def _trigger(tracker: Tracker) -> str:
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if intent == "nlu_fallback":
        return "fallback"
    meta = tracker.latest_message.get("metadata") or {}
    return "offer" if meta.get("button") else "intent"


def _join_queue(session: Session, sender: str, trigger: str) -> bool | None:
    """None: nobody on duty; True: queued now; False: was already waiting or chatting."""
    conv = session.scalar(select(Conversation).where(Conversation.sender_id == sender))
    if conv is None or not librarian_available(session, get_settings()):
        return None
    before = conv.mode
    request_chat(session, conv, trigger)
    return before.value == "bot"


def _save_question(session: Session, sender: str, text: str) -> str | None:
    conv = session.scalar(select(Conversation).where(Conversation.sender_id == sender))
    if conv is None:
        return None
    return leave_question(session, conv, text, NO_LIBRARIAN).reference


class ActionLeaveQuestion(Action):
    def name(self) -> str:
        return "action_leave_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        text = (tracker.get_slot("question_text") or "").strip()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if not text or (intent in _CANCEL and len(text) <= 12):
            say(dispatcher, language, "好的，没有留言。", "OK, no question was left.")
            return [SlotSet("question_text", None)]
        ref = await in_db(_save_question, tracker.sender_id, text)
        if ref is None:
            say(
                dispatcher,
                language,
                "抱歉，留言没有保存成功，请稍后再试。",
                "Sorry, your question could not be saved. Please try again shortly.",
            )
            return [SlotSet("question_text", None)]
        say(
            dispatcher,
            language,
            f"已收到您的留言（编号 {ref}）。馆员会在这里回复您。",
            f"Got it: your question is {ref}. A librarian will answer you here.",
        )
        return [SlotSet("question_text", None)]
