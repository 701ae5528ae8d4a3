"""Privacy rights in the chat: the notice again, an export link, forgetting the patron."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import in_db, reply_language, say
from kb import engine_tracker as tracker
from kb.patrons.service import patron_for_sender
from kb.privacy import export, forget, notice
from kb.settings import get_settings

# What a "yes" / "no" answers while the erasure question is open.
STAGE = "privacy_stage"
CONFIRM = "forget_confirm"


def _channel(tracker_: Tracker) -> str:
    meta = (tracker_.latest_message or {}).get("metadata") or {}
    return str(meta.get("channel") or tracker_.sender_id.split("-", 1)[0] or "chat")


def export_url(token: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}/privacy/export/{token}"


class ActionPrivacyNotice(Action):
    def name(self) -> str:
        return "action_privacy_notice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=notice.text(reply_language(tracker)))
        return []


class ActionPrivacyExport(Action):
    def name(self) -> str:
        return "action_privacy_export"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        hours = get_settings().privacy_export_hours
        channel = _channel(tracker)

        def issue(session: Any) -> str | None:
            patron = patron_for_sender(session, tracker.sender_id)
            if patron is None:
                return None
            return export.issue(session, patron.id, channel, hours=hours)[1]

        token = await in_db(issue)
        if token is None:
            say(
                dispatcher,
                language,
                "我们目前没有保存关于您的任何数据。",
                "We do not hold any data about you at the moment.",
            )
            return []
        url = export_url(token)
        say(
            dispatcher,
            language,
            f"这是您的个人数据下载链接（JSON 文件），{hours} 小时内有效，只能打开一次：\n{url}\n"
            "链接只属于您，请不要转发给别人。",
            f"Here is the download link to your personal data (a JSON file). It works once, "
            f"within {hours} hours:\n{url}\nIt is yours alone: please do not forward it.",
        )
        return []


class ActionPrivacyForgetAsk(Action):
    def name(self) -> str:
        return "action_privacy_forget_ask"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        say(
            dispatcher,
            reply_language(tracker),
            "确定要删除您在图书馆咨询系统中的全部数据吗？将删除您的联系方式、聊天记录、订阅和关联的账号；"
            "未完成的文献传递申请会被取消。此操作无法撤销。",
            "Do you really want us to erase all your data? Your contact details, chat "
            "transcripts, subscriptions and linked accounts will be deleted, and open "
            "delivery requests cancelled. This cannot be undone.",
            buttons=[("确定删除", "Yes, erase it", "/affirm"), ("不删除", "No, keep it", "/deny")],
        )
        return [SlotSet(STAGE, CONFIRM)]


class ActionPrivacyForget(Action):
    def name(self) -> str:
        return "action_privacy_forget"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        source = _channel(tracker)

        def erase(session: Any) -> forget.Forgotten:
            patron = patron_for_sender(session, tracker.sender_id)
            if patron is None:
                return forget.Forgotten(erased=False)
            return forget.forget_patron(session, patron.id, source=source)

        done = await in_db(erase)
        # The engine's copies of the patron's other conversations; this one's is saved
        # again when the turn ends, so the gateway deletes it after the reply.
        await asyncio.to_thread(
            tracker_delete, [s for s in done.sender_ids if s != tracker.sender_id]
        )
        say(
            dispatcher,
            language,
            "已删除您的全部数据：联系方式、聊天记录、订阅和关联账号。"
            "已关闭的文献传递申请仅以匿名形式保留用于统计。如果您再次留言，我们会把您当作新读者。",
            "All your data has been erased: contact details, transcripts, subscriptions "
            "and linked accounts. Closed delivery requests are kept only anonymously for "
            "statistics. If you write again, you will be a new patron to us.",
        )
        return [SlotSet(STAGE, None)]


def tracker_delete(senders: list[str]) -> int:
    return tracker.delete_conversations(get_settings().tracker_store_url, senders)


class ActionPrivacyForgetCancel(Action):
    def name(self) -> str:
        return "action_privacy_forget_cancel"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        say(
            dispatcher,
            reply_language(tracker),
            "好的，您的数据保持不变。",
            "OK, nothing was erased; your data stays as it was.",
        )
        return []
