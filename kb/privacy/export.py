"""Everything refdesk holds about one patron, as JSON, and the one-time link to it.

The link carries an authenticated, expiring token (kb.alerts.tokens: AES-GCM sealed,
tamper-proof) naming a :class:`DataExport` row; the row makes it single-use and lets
the retention job drop expired ones. The data is assembled when the link is opened,
so it is current and never stored as a file.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kb.acquisitions.models import PurchaseSuggestion, PurchaseSupporter
from kb.alerts import tokens
from kb.alerts.models import AlertClick, AlertOpen, Subscriber
from kb.console.models import LiveChat
from kb.conversations.models import Conversation, Message
from kb.crypto import keyring
from kb.db import utcnow
from kb.delivery.models import DeliveryRequest
from kb.feedback.models import Feedback
from kb.ils.models import IlsAccountEvent
from kb.patrons.models import Patron
from kb.personalisation import history
from kb.privacy import consent
from kb.privacy.models import DataExport
from kb.questions.models import ReferenceQuestion
from kb.staff.audit import StaffAccess

PURPOSE = "privacy-export"
FORMAT = "refdesk-personal-data/1"


class ExportGone(LookupError):
    """The link was used already, has expired, or its patron was forgotten."""


def issue(session: Session, patron_id: int, channel: str, *, hours: int) -> tuple[DataExport, str]:
    """Record an export request and return it with its link token."""
    now = utcnow()
    export = DataExport(
        patron_id=patron_id,
        channel=channel[:16],
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    session.add(export)
    session.flush()
    token = tokens.make(PURPOSE, {"e": export.id}, days=hours / 24, now=now)
    return export, token


def redeem(session: Session, token: str, *, now: datetime | None = None) -> dict[str, Any]:
    """The patron's data for a valid, unused link; marks the link used.

    Raises tokens.TokenInvalid for a link we did not issue, tokens.TokenExpired or
    :class:`ExportGone` for one that was good once."""
    now = now or utcnow()
    data = tokens.read(token, PURPOSE, now=now)
    export = session.get(DataExport, int(data.get("e", 0)), with_for_update=True)
    if export is None or export.downloaded_at is not None:
        raise ExportGone("this download link was used already")
    if export.expires_at < now:
        raise tokens.TokenExpired("the link has expired")
    export.downloaded_at = now
    session.flush()
    return assemble(session, export.patron_id)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def assemble(session: Session, patron_id: int) -> dict[str, Any]:
    patron = session.get(Patron, patron_id)
    if patron is None:
        raise ExportGone("no such patron")
    conversations = list(
        session.scalars(select(Conversation).where(Conversation.patron_id == patron_id))
    )
    conv_ids = [c.id for c in conversations]
    tickets = list(
        session.scalars(
            select(DeliveryRequest)
            .where(DeliveryRequest.patron_id == patron_id)
            .order_by(DeliveryRequest.id)
        )
    )
    return {
        "format": FORMAT,
        "generated_at": utcnow().isoformat(),
        "patron": {
            "id": patron.id,
            "created_at": _iso(patron.created_at),
            "language": patron.language,
            "name": patron.name,
            "email": patron.email,
            "phone": patron.phone,
            "home_library": patron.home_library,
            "preferred_channel": patron.preferred_channel,
        },
        "channels": [
            {
                "channel": i.channel,
                "user_id": i.external_id,
                "reachable": i.reachable,
                "push_enabled": i.push_enabled,
                "linked_at": _iso(i.created_at),
                "last_seen_at": _iso(i.last_seen_at),
            }
            for i in patron.identities
        ],
        "consents": [
            {
                "purpose": e.purpose,
                "granted": e.granted,
                "source": e.source,
                "version": e.version,
                "wording": e.wording,
                "recorded_at": _iso(e.recorded_at),
            }
            for e in consent.history(session, patron_id)
        ],
        "alert_subscription": _subscription(session, patron_id),
        "past_searches_for_suggestions": [
            {"query": p.query, "searched_at": _iso(p.searched_at)}
            for p in history.searches(session, patron_id)
        ],
        "delivery_tickets": [_ticket(t) for t in tickets],
        "staff_access_to_my_tickets": _staff_access(session, [t.ticket for t in tickets]),
        "conversations": [_conversation(session, c) for c in conversations],
        "live_chats": [
            {
                "requested_at": _iso(lc.requested_at),
                "closed_at": _iso(lc.closed_at),
                "rating": lc.rating,
                "comment": lc.comment,
            }
            for lc in session.scalars(
                select(LiveChat).where(LiveChat.conversation_id.in_(conv_ids))
            )
        ]
        if conv_ids
        else [],
        "questions_for_librarians": [
            {
                "reference": q.reference,
                "text": q.text,
                "answer": q.answer,
                "status": q.status.value,
                "created_at": _iso(q.created_at),
            }
            for q in session.scalars(
                select(ReferenceQuestion).where(ReferenceQuestion.patron_id == patron_id)
            )
        ],
        "feedback": [
            {
                "kind": f.kind.value,
                "text": f.text,
                "status": f.status.value,
                "created_at": _iso(f.created_at),
            }
            for f in session.scalars(select(Feedback).where(Feedback.patron_id == patron_id))
        ],
        "purchase_suggestions": _suggestions(session, patron_id),
        "library_account_events": _ils_events(session, [c.sender_id for c in conversations]),
        "exports": [
            {
                "channel": x.channel,
                "created_at": _iso(x.created_at),
                "downloaded_at": _iso(x.downloaded_at),
            }
            for x in session.scalars(select(DataExport).where(DataExport.patron_id == patron_id))
        ],
    }


def _subscription(session: Session, patron_id: int) -> dict[str, Any] | None:
    sub = session.scalar(select(Subscriber).where(Subscriber.patron_id == patron_id))
    if sub is None:
        return None
    clicks = session.scalars(select(AlertClick).where(AlertClick.subscriber_id == sub.id))
    opens = session.scalars(select(AlertOpen).where(AlertOpen.subscriber_id == sub.id))
    return {
        "active": sub.active,
        "frequency": sub.frequency.value,
        "language": sub.language,
        "timezone": sub.timezone,
        "quiet_hours": [sub.quiet_start, sub.quiet_end] if sub.quiet_start else None,
        "channel": sub.channel,
        "learned_send_hour": sub.best_hour,
        "topics": [{"kind": t.kind.value, "value": t.value, "words": t.words} for t in sub.topics],
        "counted_clicks": [{"topic": c.topic, "clicked_at": _iso(c.clicked_at)} for c in clicks],
        "counted_email_opens": [{"opened_at": _iso(o.opened_at)} for o in opens],
    }


def _ticket(t: DeliveryRequest) -> dict[str, Any]:
    return {
        "ticket": t.ticket,
        "status": t.status.value,
        "genre": t.genre.value,
        "title": t.title,
        "article_title": t.article_title,
        "journal": t.journal,
        "authors": list(t.authors or []),
        "year": t.year,
        "doi": t.doi,
        "isbn": t.isbn,
        "service_type": t.service_type.value,
        "delivery_method": t.delivery_method.value,
        "pickup_library": t.pickup_library,
        "contact_name": t.contact_name,
        "contact_email": t.contact_email,
        "contact_phone": t.contact_phone,
        "notes": t.notes,
        "created_at": _iso(t.created_at),
        "closed_at": _iso(t.closed_at),
        "history": [
            {"at": _iso(e.at), "event": e.event.value, "to_status": e.to_status.value}
            for e in t.events
        ],
    }


def _staff_access(session: Session, tickets: list[str]) -> list[dict[str, Any]]:
    if not tickets:
        return []
    rows = session.scalars(
        select(StaffAccess).where(StaffAccess.ticket.in_(tickets)).order_by(StaffAccess.at)
    )
    return [
        {"at": _iso(a.at), "staff": a.staff.username, "action": a.action, "ticket": a.ticket}
        for a in rows
    ]


def _conversation(session: Session, conv: Conversation) -> dict[str, Any]:
    messages = session.scalars(
        select(Message).where(Message.conversation_id == conv.id).order_by(Message.id)
    )
    return {
        "channel": conv.channel,
        "started_at": _iso(conv.created_at),
        "messages": [
            {"at": _iso(m.created_at), "speaker": m.speaker.value, "text": m.text} for m in messages
        ],
    }


def _suggestions(session: Session, patron_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(PurchaseSuggestion)
        .outerjoin(PurchaseSupporter)
        .where(
            or_(
                PurchaseSuggestion.patron_id == patron_id,
                PurchaseSupporter.patron_id == patron_id,
            )
        )
        .distinct()
    )
    return [
        {
            "reference": s.reference,
            "title": s.title,
            "author": s.author,
            "reason": s.reason if s.patron_id == patron_id else None,
            "status": s.status.value,
            "created_at": _iso(s.created_at),
        }
        for s in rows
    ]


def _ils_events(session: Session, senders: list[str]) -> list[dict[str, Any]]:
    """Library-account actions (renewals, sign-ins) taken from these conversations."""
    if not senders:
        return []
    ring = keyring()
    owners = [ring.blind_index(s, "ils-owner") for s in senders]
    rows = session.scalars(
        select(IlsAccountEvent)
        .where(IlsAccountEvent.owner_index.in_(owners))
        .order_by(IlsAccountEvent.occurred_at)
    )
    return [
        {
            "at": _iso(e.occurred_at),
            "action": e.action.value,
            "outcome": e.outcome.value,
            "item": e.item_id,
        }
        for e in rows
    ]
