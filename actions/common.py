"""What every action needs: the reply language, the database, bilingual replies."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from kb.db import session_scope
from kb.language import LANGUAGES, detect_language
from kb.settings import get_settings

T = TypeVar("T")


def reply_language(tracker: Tracker) -> str:
    """The patron's language: the slot set by the NLU, else the text, else the default."""
    slot = tracker.get_slot("language")
    if slot in LANGUAGES:
        return str(slot)
    meta = (tracker.latest_message or {}).get("metadata") or {}
    if meta.get("language") in LANGUAGES:
        return str(meta["language"])
    detected = detect_language((tracker.latest_message or {}).get("text") or "")
    return detected or get_settings().default_language


def say(
    dispatcher: CollectingDispatcher,
    language: str,
    zh: str,
    en: str,
    buttons: list[tuple[str, str, str]] | None = None,
    **kwargs: Any,
) -> None:
    """Send one message in the patron's language. Buttons are (title_zh, title_en, payload)."""
    rendered = [
        {"title": tz if language == "zh" else te, "payload": payload}
        for tz, te, payload in buttons or []
    ]
    dispatcher.utter_message(text=zh if language == "zh" else en, buttons=rendered, **kwargs)


async def in_db(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(session, *args)`` in a worker thread inside one transaction."""

    def call() -> T:
        with session_scope(get_settings().database_url) as session:
            return fn(session, *args)

    return await asyncio.to_thread(call)


__all__ = ["Session", "in_db", "reply_language", "say"]
