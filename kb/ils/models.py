"""What refdesk remembers about patrons' ILS account actions: an audit trail, never a PIN.

Barcodes and conversation owners are stored only as keyed hashes (enough to
count failed PIN attempts across action-server processes and restarts);
item ids are encrypted, since loans are reading history.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from kb.crypto import EncryptedText
from kb.db import Base, UTCDateTime, str_enum, utcnow


class AccountAction(enum.StrEnum):
    VERIFY = "verify"
    RENEW = "renew"
    RENEW_ALL = "renew_all"
    END = "end"


class AccountOutcome(enum.StrEnum):
    OK = "ok"
    WRONG_PIN = "wrong_pin"
    UNKNOWN_PATRON = "unknown_patron"
    LOCKED_OUT = "locked_out"
    REFUSED = "refused"  # the ILS would not renew (see reason)
    UNKNOWN = "unknown"  # the connection dropped after a renewal was sent


class IlsAccountEvent(Base):
    __tablename__ = "ils_account_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[AccountAction] = mapped_column(str_enum(AccountAction))
    outcome: Mapped[AccountOutcome] = mapped_column(str_enum(AccountOutcome))
    barcode_index: Mapped[str] = mapped_column(String(64), index=True)
    owner_index: Mapped[str] = mapped_column(String(64), index=True)
    item_id: Mapped[str | None] = mapped_column(EncryptedText)
    reason: Mapped[str | None] = mapped_column(String(24))
