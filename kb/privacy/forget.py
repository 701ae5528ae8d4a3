"""Forgetting a patron (the right to erasure), on their request in the chat or by staff.

Erased: contact data, linked channel identities, transcripts, questions, feedback,
alert subscriptions and clicks, past searches kept for suggestions, queued messages,
consents and exports, library-account
audit events of their conversations. Open delivery tickets are cancelled; all their
tickets stay for the delivery statistics but lose the patron link and contact fields.
What remains is one :class:`Erasure` row: when, from where, how much; no identity.

The engine's own copy of the conversations (Rasa's tracker store) is another database:
the caller deletes those rows with :func:`kb.engine_tracker.delete_conversations`
once this transaction has committed, for the sender ids returned here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from kb.acquisitions.models import PurchaseSuggestion
from kb.conversations.models import Conversation, Message
from kb.crypto import keyring
from kb.db import utcnow
from kb.delivery import service as delivery
from kb.delivery.models import DeliveryEvent, DeliveryRequest
from kb.delivery.states import Event, Role
from kb.delivery.transitions import TABLE
from kb.feedback.models import Feedback
from kb.ils.models import IlsAccountEvent
from kb.patrons.models import ChannelIdentity, Patron
from kb.personalisation import history
from kb.privacy.models import Erasure

log = logging.getLogger("refdesk.privacy")

ACTOR = "privacy-erasure"


@dataclass
class Forgotten:
    erased: bool  # False: there was no such patron (already forgotten)
    sender_ids: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def forget_patron(session: Session, patron_id: int, *, source: str) -> Forgotten:
    patron = session.get(Patron, patron_id)
    if patron is None:
        return Forgotten(erased=False)
    now = utcnow()
    senders = list(
        session.scalars(select(Conversation.sender_id).where(Conversation.patron_id == patron_id))
    )
    counts = {
        "channels": _count(session, ChannelIdentity.patron_id == patron_id, ChannelIdentity.id),
        "conversations": len(senders),
        "messages": session.scalar(
            select(func.count(Message.id))
            .join(Conversation)
            .where(Conversation.patron_id == patron_id)
        )
        or 0,
        "past_searches": history.count_searches(session, patron_id),
    }

    tickets = list(
        session.scalars(select(DeliveryRequest).where(DeliveryRequest.patron_id == patron_id))
    )
    cancelled = 0
    for ticket in tickets:
        if (ticket.status, Event.CANCEL) in TABLE:
            delivery.cancel(ticket, actor=ACTOR, role=Role.LIBRARIAN, now=now)
            cancelled += 1
        anonymise_ticket(session, ticket)
    counts["tickets_anonymised"] = len(tickets)
    counts["tickets_cancelled"] = cancelled

    counts["feedback"] = _rows(
        session.execute(delete(Feedback).where(Feedback.patron_id == patron_id))
    )
    # The suggestion itself (a title) stays for the selectors; the patron's reason goes.
    session.execute(
        update(PurchaseSuggestion)
        .where(PurchaseSuggestion.patron_id == patron_id)
        .values(patron_id=None, reason=None)
    )
    if senders:
        ring = keyring()
        owners = [ring.blind_index(s, "ils-owner") for s in senders]
        counts["library_account_events"] = _rows(
            session.execute(delete(IlsAccountEvent).where(IlsAccountEvent.owner_index.in_(owners)))
        )
    session.flush()
    # Everything else hangs off the patron row and goes with it (ON DELETE CASCADE):
    # identities, conversations and messages, questions, subscriptions, consents, exports,
    # past searches.
    session.expunge_all()
    session.execute(delete(Patron).where(Patron.id == patron_id))
    session.add(Erasure(erased_at=now, source=source[:32], counts=counts))
    session.flush()
    log.info("privacy: a patron was forgotten (%s): %s", source, counts)
    return Forgotten(erased=True, sender_ids=senders, counts=counts)


def anonymise_ticket(session: Session, ticket: DeliveryRequest) -> None:
    """Keep the ticket for statistics, without who asked or how to reach them."""
    ticket.patron_id = None
    ticket.contact_name = None
    ticket.contact_email = None
    ticket.contact_phone = None
    ticket.notes = None
    ticket.open_dedupe_key = None
    session.execute(
        update(DeliveryEvent).where(DeliveryEvent.request_id == ticket.id).values(note=None)
    )


def _count(session: Session, where: object, column: object) -> int:
    return session.scalar(select(func.count(column)).where(where)) or 0  # type: ignore[arg-type]


def _rows(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
