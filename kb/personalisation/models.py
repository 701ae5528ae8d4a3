"""The catalog searches a patron made in chat, kept only while they consent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from kb.crypto import EncryptedText
from kb.db import Base, UTCDateTime, utcnow


class PastSearch(Base):
    """One catalog search, for better suggestions. Encrypted like other patron text;
    deleted when consent is withdrawn, by the retention job, and with the patron."""

    __tablename__ = "personalisation_searches"

    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    query: Mapped[str] = mapped_column(EncryptedText)
    searched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
