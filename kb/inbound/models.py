from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from kb.db import Base, UTCDateTime


class SeenDelivery(Base):
    """A delivery id (WeChat MsgId, an event's sender + time) seen lately.

    The key is a keyed hash: event keys contain the patron's openid.
    """

    __tablename__ = "inbound_seen"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
