"""Canned replies: short bilingual texts librarians insert while chatting."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.console.models import CannedReply
from kb.db import utcnow

STARTERS = [
    (
        "greeting",
        "您好，我是图书馆馆员，请问有什么可以帮您？",
        "Hello, I'm a librarian. How can I help you?",
    ),
    ("one_moment", "请稍等，我帮您查一下。", "One moment please, I'll look that up for you."),
    ("anything_else", "还有其他问题吗？", "Is there anything else I can help you with?"),
]


class CannedError(ValueError):
    pass


def list_canned(session: Session) -> list[CannedReply]:
    rows = list(session.scalars(select(CannedReply).order_by(CannedReply.title)))
    if not rows:
        for title, zh, en in STARTERS:
            session.add(CannedReply(title=title, text_zh=zh, text_en=en, updated_by="bundled"))
        session.flush()
        rows = list(session.scalars(select(CannedReply).order_by(CannedReply.title)))
    return rows


def save_canned(
    session: Session, canned_id: int | None, title: str, zh: str, en: str, editor: str
) -> CannedReply:
    for name, value in (("title", title), ("Chinese text", zh), ("English text", en)):
        if not value.strip():
            raise CannedError(f"the {name} must not be empty")
    row = session.get(CannedReply, canned_id) if canned_id else None
    if row is None:
        row = CannedReply()
        session.add(row)
    row.title, row.text_zh, row.text_en = title.strip()[:100], zh.strip(), en.strip()
    row.updated_by, row.updated_at = editor, utcnow()
    session.flush()
    return row


def delete_canned(session: Session, canned_id: int) -> None:
    row = session.get(CannedReply, canned_id)
    if row is not None:
        session.delete(row)
