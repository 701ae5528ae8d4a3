from __future__ import annotations

from importlib import resources

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.db import utcnow
from kb.faq.models import FaqAnswer

# The retrieval keys fixed by the NLU contract (faq/<key>).
FAQ_KEYS = (
    "opening_hours",
    "location",
    "borrowing_rules",
    "fines_policy",
    "library_card",
    "visitor_access",
    "remote_access",
    "printing",
    "wifi",
    "study_space",
    "holds",
    "document_delivery_policy",
    "research_data",
    "citation_tools",
    "events",
    "donations",
)


class FaqError(ValueError):
    """An FAQ edit that cannot be saved; the message names the field."""


def answer_for(session: Session, key: str, language: str) -> str | None:
    row = session.scalar(select(FaqAnswer).where(FaqAnswer.key == key))
    if row is None:
        return None
    return row.answer_zh if language == "zh" else row.answer_en


def upsert_answer(
    session: Session,
    key: str,
    *,
    title_zh: str,
    title_en: str,
    answer_zh: str,
    answer_en: str,
    editor: str | None = None,
) -> FaqAnswer:
    for field, value in (
        ("key", key),
        ("title_zh", title_zh),
        ("title_en", title_en),
        ("answer_zh", answer_zh),
        ("answer_en", answer_en),
    ):
        if not value or not value.strip():
            raise FaqError(f"{field} must not be empty")
    row = session.scalar(select(FaqAnswer).where(FaqAnswer.key == key))
    if row is None:
        row = FaqAnswer(key=key)
        session.add(row)
    row.title_zh, row.title_en = title_zh.strip(), title_en.strip()
    row.answer_zh, row.answer_en = answer_zh.strip(), answer_en.strip()
    row.updated_by = editor
    row.updated_at = utcnow()
    session.flush()
    return row


def load_bundled(session: Session) -> int:
    """Load kb/data/faq.yml into an empty FAQ store; returns how many were added."""
    if session.scalar(select(FaqAnswer.id).limit(1)) is not None:
        return 0
    data = yaml.safe_load(resources.files("kb.data").joinpath("faq.yml").read_text("utf-8"))
    for key, entry in data["faq"].items():
        upsert_answer(session, key, editor="bundled", **entry)
    return len(data["faq"])
