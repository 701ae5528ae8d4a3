"""Librarians' announcements to a topic audience: preview with the audience count,
then publish now or at a set time (an item the matcher picks up once it is due).

Who may send: every librarian may compose and preview; sending reaches patrons and
cannot be taken back, so it is for admins (``may_send``), in the console and through
the API alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from kb.alerts.items import insert_items
from kb.alerts.matching import build_index
from kb.alerts.models import AlertItem, ItemKind
from kb.alerts.text import keyword_key, terms
from kb.alerts.vocabulary import vocabulary
from kb.db import utcnow
from kb.staff.models import StaffRole

SEND_REFUSED = "only an admin can send announcements to patrons; any librarian may preview"


class AnnouncementError(ValueError):
    """Something the librarian must fix; the text names the field."""


def may_send(role: str) -> bool:
    """Whether a staff member with this role may send an announcement to patrons."""
    return role == StaffRole.ADMIN.value


@dataclass
class Draft:
    title_zh: str
    title_en: str
    text_zh: str = ""
    text_en: str = ""
    url: str | None = None
    topics: list[str] = field(default_factory=list)  # CLC codes or words
    keywords: list[str] = field(default_factory=list)
    publish_at: datetime | None = None

    def audience(self) -> dict[str, list[str]]:
        vocab = vocabulary()
        codes: list[str] = []
        keys: list[str] = []
        for entry in self.topics:
            if vocab.get(entry.strip().upper()):
                codes.append(entry.strip().upper())
                continue
            understood = vocab.understand(entry)
            codes += [t.code for t in understood.topics]
            keys += understood.keywords
        for word in self.keywords:
            key = keyword_key(word)
            if key:
                keys.append(key)
        if not codes and not keys:
            raise AnnouncementError("topics: name at least one topic or keyword of the audience")
        # No: an announcement for TP18 reaches subscribers of TP18 and of its broader
        # classes (T), as a new TP18 book would.
        covering: list[str] = []
        for code in codes:
            for c in sorted(vocab.covering(code)):
                if c not in covering:
                    covering.append(c)
        return {
            "topics": covering,
            "keywords": sorted(set(keys)),
            "named": list(dict.fromkeys(codes)),
        }

    def check(self) -> None:
        if not self.title_zh.strip() or not self.title_en.strip():
            raise AnnouncementError("title_zh and title_en: both languages are needed")
        if self.url and not self.url.startswith(("https://", "http://")):
            raise AnnouncementError("url: must start with https:// or http://")


def preview(session: Session, draft: Draft) -> dict[str, Any]:
    draft.check()
    audience = draft.audience()
    index = build_index(session)
    count = len(index.audience(audience["topics"], audience["keywords"]))
    vocab = vocabulary()
    labels = {
        lang: [vocab.get(c).label(lang) for c in audience["named"] if vocab.get(c)]  # type: ignore[union-attr]
        + [f"“{k}”" for k in audience["keywords"]]
        for lang in ("zh", "en")
    }
    return {
        "audience": count,
        "topics": audience["named"],
        "keywords": audience["keywords"],
        "labels": labels,
        "preview": {
            "zh": "\n".join(
                p for p in ["馆员通知：", draft.title_zh, draft.text_zh, draft.url or ""] if p
            ),
            "en": "\n".join(
                p
                for p in ["Library announcement:", draft.title_en, draft.text_en, draft.url or ""]
                if p
            ),
        },
    }


def publish(session: Session, draft: Draft, *, staff: str) -> AlertItem:
    draft.check()
    audience = draft.audience()
    when = draft.publish_at or utcnow()
    if when.tzinfo is None:
        raise AnnouncementError("publish_at: give a time zone (e.g. 2026-12-01T09:00:00+08:00)")
    key = f"announcement:{staff}:{utcnow().timestamp()}"
    insert_items(
        session,
        [
            {
                "kind": ItemKind.ANNOUNCEMENT,
                "source_key": key,
                "title": draft.title_zh.strip(),
                "title_en": draft.title_en.strip(),
                "summary": draft.text_zh.strip() or None,
                "summary_en": draft.text_en.strip() or None,
                "url": draft.url,
                "topics": audience["topics"],
                "terms": sorted(terms(f"{draft.title_zh} {draft.title_en}"))[:100],
                "audience": audience,
                "publish_at": when,
                "created_by": staff[:64],
            }
        ],
    )
    session.flush()
    from sqlalchemy import select

    item = session.scalar(select(AlertItem).where(AlertItem.source_key == key))
    assert item is not None
    return item


def listing(session: Session, *, limit: int = 100) -> list[dict[str, Any]]:
    """Announcements, newest first: scheduled (not yet due), or matched with how many
    alerts were written, queued and are still waiting."""
    from sqlalchemy import case, func, select

    from kb.alerts.models import AlertDelivery, DeliveryStatus

    counts = (
        select(
            AlertDelivery.item_id,
            func.count().label("deliveries"),
            func.sum(case((AlertDelivery.status == DeliveryStatus.QUEUED, 1), else_=0)).label(
                "queued"
            ),
            func.sum(case((AlertDelivery.status == DeliveryStatus.PENDING, 1), else_=0)).label(
                "pending"
            ),
        )
        .group_by(AlertDelivery.item_id)
        .subquery()
    )
    rows = session.execute(
        select(AlertItem, counts.c.deliveries, counts.c.queued, counts.c.pending)
        .outerjoin(counts, counts.c.item_id == AlertItem.id)
        .where(AlertItem.kind == ItemKind.ANNOUNCEMENT)
        .order_by(AlertItem.publish_at.desc(), AlertItem.id.desc())
        .limit(limit)
    ).all()
    now = utcnow()
    return [
        {
            "id": item.id,
            "title_zh": item.title,
            "title_en": item.title_en,
            "publish_at": item.publish_at.isoformat(),
            "created_by": item.created_by,
            "topics": (item.audience or {}).get("named", []),
            "keywords": (item.audience or {}).get("keywords", []),
            "state": "scheduled"
            if item.publish_at > now and item.matched_at is None
            else ("sent" if item.matched_at is not None else "due"),
            "deliveries": int(deliveries or 0),
            "queued": int(queued or 0),
            "pending": int(pending or 0),
        }
        for item, deliveries, queued, pending in rows
    ]
