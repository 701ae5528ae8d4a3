"""The questions the forms ask (``action_ask_<slot>``), in zh and en."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import reply_language, say

PROMPTS = {
    # catalog: the patron asked to search but named nothing (search_form)
    "search_query": (
        "您想找什么？可以告诉我书名、作者、主题或 ISBN。",
        "What are you looking for? Tell me a title, an author, a subject or an ISBN.",
    ),
    # handoff: no librarian on duty, the question is kept for later (question_form)
    "question_text": (
        "请把您的问题写下来（可以写详细一些），馆员会在这里回复您。",
        "Please write down your question (details help); a librarian will answer you here.",
    ),
    # alerts: what to be told about
    "alert_topics": (
        "您想订阅哪些主题？用自己的话说就行，例如“人工智能和考古”。",
        "Which topics would you like alerts on? Your own words are fine, e.g. “AI and archaeology”.",
    ),
    # account: the card number (the PIN is asked by action_ils_ask_pin, taken by the gateway)
    "library_barcode": (
        "请输入您的借书证号（证件上的条码号）。输入“取消”可以退出。",
        "Please type your library card number (the barcode on your card), or 'cancel'.",
    ),
    "recommend_topic": (
        "您想看哪方面的书？说一个主题就行，比如“心理学入门”或“科幻小说”。",
        "What would you like to read about? A topic is enough, e.g. “intro to psychology” "
        "or “science fiction”.",
    ),
    "purchase_title": (
        "想推荐购买哪本书？请告诉我书名。",
        "Which book would you like us to buy? Please give me the title.",
    ),
    "purchase_author": (
        "作者是谁？不清楚可以回复“跳过”。",
        "Who is the author? Say 'skip' if you're not sure.",
    ),
    "purchase_isbn": (
        "知道 ISBN 吗？不知道就回复“跳过”。",
        "Do you know the ISBN? Say 'skip' if not.",
    ),
    "purchase_reason": (
        "最后，为什么推荐这本书？（比如课程需要、研究用书）",
        "Last one: why should the library buy it? (e.g. needed for a course, for research)",
    ),
    "feedback_text": (
        "请写下您的意见：投诉、表扬、建议都可以，我们会转给负责的馆员。",
        "Please write your feedback: complaints, praise and suggestions are all welcome, and "
        "they go to the librarians in charge.",
    ),
}


class _Prompt(Action, ABC):
    @property
    @abstractmethod
    def slot(self) -> str: ...

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        zh, en = PROMPTS[self.slot]
        say(dispatcher, reply_language(tracker), zh, en)
        return []


for _slot in PROMPTS:
    # A real module attribute with this module's name: the action server's workers pickle it.
    globals()[f"Ask_{_slot}"] = type(
        f"Ask_{_slot}", (_Prompt,), {"slot": _slot, "__module__": __name__}
    )
