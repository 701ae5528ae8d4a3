from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.crypto import EncryptedText
from kb.db import Base, UTCDateTime, str_enum, utcnow
from kb.patrons.models import Patron


class OutboundStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting to be sent (again)
    SENDING = "sending"  # claimed by a dispatcher until lease_until
    SENT = "sent"
    # The dispatcher stopped after sending but before recording it: the patron may
    # have it. Never sent again automatically (a message is never sent twice);
    # staff see it with the dead letters.
    UNCERTAIN = "uncertain"
    DEAD = "dead"  # gave up (unreachable everywhere, too many failures); staff see it


class OutboundMessage(Base):
    __tablename__ = "outbound_messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    # What it is about: ticket, handoff, alert, digest, question, system.
    kind: Mapped[str] = mapped_column(String(24))
    # Enqueueing the same key twice yields one message.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # A channel the sender insists on (e.g. "email" for an e-mail digest); otherwise
    # the dispatcher picks by the patron's preference and reachability.
    channel: Mapped[str | None] = mapped_column(String(16))
    # JSON {"text": ..., "buttons": [{"title", "payload"}], "links": [...]} in the
    # patron's language, encrypted at rest like the rest of what patrons are told.
    body: Mapped[str] = mapped_column(EncryptedText)
    status: Mapped[OutboundStatus] = mapped_column(
        str_enum(OutboundStatus), default=OutboundStatus.QUEUED, index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when claimed: the channel and identity the message goes to, and which worker
    # claimed it (for staff reviewing an uncertain send).
    sent_channel: Mapped[str | None] = mapped_column(String(16))
    identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_identities.id", ondelete="SET NULL")
    )
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    channel_message_id: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    patron: Mapped[Patron] = relationship()
