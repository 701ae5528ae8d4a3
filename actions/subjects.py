"""Who is the subject librarian for a field, from the directory in kb/subjects."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.catalog import first_entity
from actions.common import in_db, reply_language, say
from actions.handoff import handoff_payload
from kb.console import departments
from kb.console.availability import librarian_available
from kb.settings import get_settings
from kb.subjects import SubjectLibrarian, active_librarians, librarians_for

LIBRARIAN = ("现在联系馆员", "Talk to a librarian now", "/human_handoff")
LANGUAGE_NAMES = {"zh": ("中文", "Chinese"), "en": ("英文", "English")}


def describe(lib: SubjectLibrarian, language: str) -> str:
    zh = language == "zh"
    name = lib.name_zh if zh else lib.name_en
    subjects = (lib.subjects_zh if zh else lib.subjects_en) or lib.subjects_zh or lib.subjects_en
    langs = [
        LANGUAGE_NAMES[code][0 if zh else 1] for code in lib.languages if code in LANGUAGE_NAMES
    ]
    office = (lib.office_zh if zh else lib.office_en) or lib.office_zh or lib.office_en
    hours = (lib.hours_zh if zh else lib.hours_en) or lib.hours_zh or lib.hours_en
    rows = [
        ("负责领域" if zh else "Covers", "、".join(subjects) if zh else ", ".join(subjects)),
        ("邮箱" if zh else "Email", lib.email),
        ("电话" if zh else "Phone", lib.phone),
        ("办公室" if zh else "Office", office),
        ("答疑时间" if zh else "Office hours", hours),
        ("可用语言" if zh else "Languages", "、".join(langs) if zh else ", ".join(langs)),
    ]
    sep = "：" if zh else ": "
    return "\n".join([name, *(f"· {k}{sep}{v}" for k, v in rows if v)])


def _lookup(
    session: Session, wanted: str
) -> tuple[list[SubjectLibrarian], list[SubjectLibrarian], str | None]:
    """The best two librarians for the field, everyone when none matches, and the
    department of the best match when one of its librarians is on duty now."""
    found = librarians_for(session, wanted)[:2] if wanted else []
    return found, active_librarians(session) if not found else [], _on_duty(session, found)


def _on_duty(session: Session, found: list[SubjectLibrarian]) -> str | None:
    department = next((lib.department for lib in found if lib.department), None)
    if department is None or not librarian_available(session, get_settings(), None, department):
        return None
    return departments.find(session, department)


class ActionSubjectLibrarian(Action):
    def name(self) -> str:
        return "action_subject_librarian"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        topic = first_entity(tracker, "topic")
        text = tracker.latest_message.get("text") or ""
        wanted = topic or ("" if text.startswith("/") else text)
        found, everyone, department = await in_db(_lookup, wanted)
        if found:
            field = topic or ("这个领域" if language == "zh" else "that field")
            head = (
                f"{field}的学科馆员："
                if language == "zh"
                else f"The subject librarian for {field}:"
            )
            body = "\n\n".join(describe(lib, language) for lib in found)
            if department is None:
                say(
                    dispatcher,
                    language,
                    f"{head}\n{body}\n可以直接发邮件预约咨询，也可以现在转给值班馆员。",
                    f"{head}\n{body}\nYou can email to book a consultation, or talk to the "
                    "librarian on duty now.",
                    buttons=[LIBRARIAN],
                )
                return []
            # Someone of that librarian's department is online: the button queues there.
            say(
                dispatcher,
                language,
                f"{head}\n{body}\n可以直接发邮件预约咨询；{department}现在有馆员在线，也可以马上联系。",
                f"{head}\n{body}\nYou can email to book a consultation; a librarian of "
                f"{department} is online now if you would like to talk.",
                buttons=[
                    (f"联系{department}", f"Talk to {department}", handoff_payload(department))
                ],
            )
            return []
        buttons = []
        for lib in everyone[:8]:
            label_zh = (lib.subjects_zh or lib.subjects_en)[0]
            label_en = (lib.subjects_en or lib.subjects_zh)[0]
            label = label_zh if language == "zh" else label_en
            payload = "/subject_librarian" + json.dumps({"topic": label}, ensure_ascii=False)
            buttons.append((label_zh, label_en.capitalize(), payload))
        buttons.append(LIBRARIAN)
        if topic:
            zh = f"目录里没有专门负责“{topic}”的学科馆员。您可以选一个相近的领域，或者请值班馆员帮忙："
            en = (
                f"No subject librarian covers “{topic}” specifically. Pick a related field, or "
                "ask the librarian on duty:"
            )
        else:
            zh, en = (
                "您想找哪个领域的学科馆员？",
                "Which field's subject librarian are you looking for?",
            )
        say(dispatcher, language, zh, en, buttons=buttons)
        return []
