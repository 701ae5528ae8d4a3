"""Tables of the document-delivery room: requests, their lender rota, audit trail, files."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.catalog.models import Library, Record
from kb.crypto import EncryptedText
from kb.db import Base, UTCDateTime, str_enum, utcnow
from kb.delivery.citations import BIBLIOGRAPHIC_FIELDS, Citation
from kb.delivery.states import (
    DeliveryMethod,
    Event,
    Genre,
    ReasonUnfilled,
    Role,
    RotaState,
    ServiceType,
    Status,
)
from kb.patrons.models import Patron


class TicketCounter(Base):
    """The last ticket number handed out in a year (``DD-<year>-<6 digits>``)."""

    __tablename__ = "delivery_ticket_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class DeliveryRequest(Base):
    """One patron's request for an item their library does not have (a ticket)."""

    __tablename__ = "delivery_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket: Mapped[str] = mapped_column(String(20), unique=True)
    # None once the patron was forgotten: the closed ticket stays, anonymised, for statistics.
    patron_id: Mapped[int | None] = mapped_column(
        ForeignKey("patrons.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[Status] = mapped_column(str_enum(Status), default=Status.SUBMITTED, index=True)
    # Optimistic locking: two librarians answering at once cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1)

    # --- what is wanted -------------------------------------------------------
    genre: Mapped[Genre] = mapped_column(str_enum(Genre), default=Genre.UNKNOWN)
    title: Mapped[str | None] = mapped_column(Text)  # book / thesis title, or the book of a chapter
    article_title: Mapped[str | None] = mapped_column(Text)  # article or chapter title
    journal: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    year: Mapped[int | None] = mapped_column(Integer)
    volume: Mapped[str | None] = mapped_column(Text)
    issue: Mapped[str | None] = mapped_column(Text)
    pages: Mapped[str | None] = mapped_column(Text)
    publisher: Mapped[str | None] = mapped_column(Text)
    place: Mapped[str | None] = mapped_column(Text)
    edition: Mapped[str | None] = mapped_column(Text)
    # Normalised identifiers (ISBN-13 digits, ISSN NNNN-NNNC, DOI lowercase, PMID digits).
    isbn: Mapped[str | None] = mapped_column(String(13), index=True)
    issn: Mapped[str | None] = mapped_column(String(9))
    doi: Mapped[str | None] = mapped_column(String(300), index=True)
    pmid: Mapped[str | None] = mapped_column(String(12), index=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id", ondelete="SET NULL"))
    # CLC top-level class of the matched record ("I", "TP" counts as "T"), for metrics.
    subject_class: Mapped[str | None] = mapped_column(String(2), index=True)

    # --- how ---------------------------------------------------------------------
    service_type: Mapped[ServiceType] = mapped_column(str_enum(ServiceType))
    delivery_method: Mapped[DeliveryMethod] = mapped_column(str_enum(DeliveryMethod))
    pickup_library: Mapped[str | None] = mapped_column(ForeignKey("libraries.code"))
    need_before: Mapped[date | None] = mapped_column(Date)
    max_cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    # Patron contact for this request and what they wrote: personal data, encrypted.
    contact_name: Mapped[str | None] = mapped_column(EncryptedText)
    contact_email: Mapped[str | None] = mapped_column(EncryptedText)
    contact_phone: Mapped[str | None] = mapped_column(EncryptedText)
    notes: Mapped[str | None] = mapped_column(EncryptedText)
    language: Mapped[str] = mapped_column(String(8), default="zh")  # of the patron's messages
    source: Mapped[str] = mapped_column(String(16), default="chat")  # chat / openurl / console
    # The patron's own library when the request was opened (the "sent" side of reports).
    requesting_library: Mapped[str | None] = mapped_column(String(32), index=True)

    # --- where it is ----------------------------------------------------------------
    current_lender: Mapped[str | None] = mapped_column(ForeignKey("libraries.code"), index=True)
    answer_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # "<patron>:<scheme>:<value>" while open, NULL once closed: a unique index makes
    # two concurrent identical requests impossible (NULLs never collide).
    open_dedupe_key: Mapped[str | None] = mapped_column(String(340), unique=True)
    supplied_link: Mapped[str | None] = mapped_column(Text)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    supplied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}

    patron: Mapped[Patron | None] = relationship()
    record: Mapped[Record | None] = relationship()
    lender: Mapped[Library | None] = relationship(foreign_keys=[current_lender])
    rota: Mapped[list[RotaEntry]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RotaEntry.position"
    )
    events: Mapped[list[DeliveryEvent]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="DeliveryEvent.id"
    )
    files: Mapped[list[SuppliedFile]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="SuppliedFile.id"
    )

    @property
    def citation(self) -> Citation:
        values = {name: getattr(self, name) for name in BIBLIOGRAPHIC_FIELDS}
        return Citation(genre=self.genre, **{**values, "authors": list(self.authors or [])})

    def set_citation(self, citation: Citation) -> None:
        self.genre = citation.genre
        for name in BIBLIOGRAPHIC_FIELDS:
            setattr(self, name, getattr(citation, name))

    @property
    def completion_days(self) -> float | None:
        """Days from opening to the moment the patron could have it (BALIS "完成天数")."""
        if self.supplied_at is None:
            return None
        return (self.supplied_at - self.created_at).total_seconds() / 86400


class RotaEntry(Base):
    """One lender in a request's rota, in the order they are asked."""

    __tablename__ = "delivery_rota"
    __table_args__ = (UniqueConstraint("request_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("delivery_requests.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    library_code: Mapped[str] = mapped_column(ForeignKey("libraries.code"), index=True)
    state: Mapped[RotaState] = mapped_column(str_enum(RotaState), default=RotaState.PENDING)
    reason: Mapped[ReasonUnfilled | None] = mapped_column(str_enum(ReasonUnfilled, length=32))
    # Why it was ranked here: availability, smoothed fill rate and days, load, score.
    ranking: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Days from sending to the answer (to supply, if filled): the lender's measured speed.
    answer_days: Mapped[float | None] = mapped_column(Float)

    request: Mapped[DeliveryRequest] = relationship(back_populates="rota")
    library: Mapped[Library] = relationship()


class DeliveryEvent(Base):
    """The audit trail: every transition, who made it, when and why."""

    __tablename__ = "delivery_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("delivery_requests.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    event: Mapped[Event] = mapped_column(str_enum(Event))
    actor: Mapped[str] = mapped_column(String(100))  # staff user, library code, "patron", "system"
    role: Mapped[Role] = mapped_column(str_enum(Role))
    from_status: Mapped[Status] = mapped_column(str_enum(Status))
    to_status: Mapped[Status] = mapped_column(str_enum(Status))
    lender: Mapped[str | None] = mapped_column(String(32))  # the lender the event concerns
    routed_to: Mapped[str | None] = mapped_column(String(32))  # the lender it went to next
    reason: Mapped[ReasonUnfilled | None] = mapped_column(str_enum(ReasonUnfilled, length=32))
    # Free text may quote the patron, so it is encrypted like the request notes.
    note: Mapped[str | None] = mapped_column(EncryptedText)

    request: Mapped[DeliveryRequest] = relationship(back_populates="events")


class SuppliedFile(Base):
    """A copy a lender uploaded; the bytes live under ``<home>/delivery``."""

    __tablename__ = "delivery_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("delivery_requests.id", ondelete="CASCADE"), index=True
    )
    public_id: Mapped[str] = mapped_column(String(32), unique=True)  # what tokens name
    stored_name: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # bytes deleted

    request: Mapped[DeliveryRequest] = relationship(back_populates="files")
