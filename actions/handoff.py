"""Reaching a librarian. With a librarian on duty (console online, service hours) the
patron joins the live-chat queue (the gateway tells them their place and wait);
with nobody on duty they leave a question, answered later here.

A button can ask for a department's queue: ``/human_handoff{"department": "…"}``
(offered by ``action_subject_librarian``). The engine drops the entity, which is not
in the domain, but keeps the text, so the department needs no model change; the
gateway only forwards payloads the bot offered, so a patron cannot type one. When
nobody of the department is on duty by then, the general queue applies."""

from __future__ import annotations

import json
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
HANDOFF = "/human_handoff"
# Short replies that mean "never mind" while we wait for the question text.
_CANCEL = {"deny", "goodbye", "thank"}


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        wanted = requested_department(tracker.latest_message.get("text") or "")
        joined = await in_db(_join_queue, tracker.sender_id, _trigger(tracker), wanted)
        if joined is not None:
            queued, department = joined
            if queued and department:
                say(
                    dispatcher,
                    language,
                    f"正在为您联系{department}的馆员，请稍候。在馆员接入之前，我仍可以回答您的问题；"
                    "输入“机器人”可取消排队。",
                    f"I'm connecting you to a librarian of {department}; please wait. Until one "
                    'joins I can still help; type "bot" to leave the queue.',
                )
            elif queued:
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


def handoff_payload(department: str) -> str:
    """The button payload that asks for ``department``'s queue."""
    return HANDOFF + json.dumps({"department": department}, ensure_ascii=False)


def requested_department(text: str) -> str | None:
    """The department a handoff button asked for, from the payload text."""
    if not text.startswith(HANDOFF + "{"):
        return None
    try:
        department = json.loads(text[len(HANDOFF) :]).get("department")
    except (ValueError, AttributeError):
        return None
    return (department.strip() or None) if isinstance(department, str) else None


def _join_queue(
    session: Session, sender: str, trigger: str, department: str | None
) -> tuple[bool, str | None] | None:
    """None: nobody on duty; else (queued now, not already waiting or chatting; the
    department queue it is in). The department's queue only while one of its
    librarians is on duty, else the general queue."""
    conv = session.scalar(select(Conversation).where(Conversation.sender_id == sender))
    settings = get_settings()
    if conv is None or not librarian_available(session, settings):
        return None
    if department and not librarian_available(session, settings, None, department):
        department = None
    before = conv.mode
    chat = request_chat(session, conv, trigger, department=department)
    return before.value == "bot", chat.department


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
