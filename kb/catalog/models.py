"""Union catalog: bibliographic records shared by member libraries, and their holdings."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.db import Base, UTCDateTime, str_enum, utcnow


class RecordFormat(enum.StrEnum):
    BOOK = "book"  # print book
    EBOOK = "ebook"
    JOURNAL = "journal"
    ARTICLE = "article"
    THESIS = "thesis"


class HoldingStatus(enum.StrEnum):
    AVAILABLE = "available"
    ON_LOAN = "on_loan"
    IN_PROCESSING = "in_processing"
    MISSING = "missing"


class Library(Base):
    """A member library of the consortium (BALIS has about 90)."""

    __tablename__ = "libraries"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)  # e.g. "PKU"
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # Takes part in document delivery as a lender.
    lends: Mapped[bool] = mapped_column(Boolean, default=True)
    # Days a lender has to answer a delivery request before it moves on.
    response_days: Mapped[int] = mapped_column(Integer, default=2)
    address_zh: Mapped[str | None] = mapped_column(String(300))
    address_en: Mapped[str | None] = mapped_column(String(300))
    # Short labels for result cards ("北大" / "PKU"); fall back to the code.
    short_zh: Mapped[str | None] = mapped_column(String(32))
    short_en: Mapped[str | None] = mapped_column(String(32))

    def name(self, language: str) -> str:
        return self.name_zh if language == "zh" else self.name_en

    def short(self, language: str) -> str:
        label = self.short_zh if language == "zh" else self.short_en
        return label or self.code


class Record(Base):
    """A bibliographic record. ``(source, source_id)`` makes re-imports update, not duplicate."""

    __tablename__ = "records"
    __table_args__ = (UniqueConstraint("source", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64))  # import source, e.g. "sample", "oai:..."
    source_id: Mapped[str] = mapped_column(String(200))  # 001 control number, OAI id, CSV id
    title: Mapped[str] = mapped_column(Text)
    subtitle: Mapped[str | None] = mapped_column(Text)
    # Romanised, uniform and varying titles: searchable as titles, not shown as the title.
    variant_titles: Mapped[list[str]] = mapped_column(JSON, default=list)
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    subjects: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Chinese Library Classification (中图法), e.g. "I247.5"; LCC; DDC.
    clc: Mapped[str | None] = mapped_column(String(64), index=True)
    lcc: Mapped[str | None] = mapped_column(String(64))
    ddc: Mapped[str | None] = mapped_column(String(64))
    isbns: Mapped[list[str]] = mapped_column(JSON, default=list)  # normalised ISBN-13
    issns: Mapped[list[str]] = mapped_column(JSON, default=list)  # normalised NNNN-NNNC
    language: Mapped[str | None] = mapped_column(String(8), index=True)  # ISO 639-1: zh, en
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    publisher: Mapped[str | None] = mapped_column(Text)
    format: Mapped[RecordFormat] = mapped_column(str_enum(RecordFormat), default=RecordFormat.BOOK)
    links: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{url, label}]
    summary: Mapped[str | None] = mapped_column(Text)
    # Digest of the imported content: a re-import of an unchanged record writes nothing.
    content_hash: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    holdings: Mapped[list[Holding]] = relationship(
        back_populates="record", cascade="all, delete-orphan", order_by="Holding.id"
    )
    identifiers: Mapped[list[RecordIdentifier]] = relationship(
        back_populates="record", cascade="all, delete-orphan"
    )


class RecordIdentifier(Base):
    """Normalised identifiers for exact look-up (ISBN-13, ISSN, DOI, OCLC number)."""

    __tablename__ = "record_identifiers"
    __table_args__ = (UniqueConstraint("record_id", "scheme", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    scheme: Mapped[str] = mapped_column(String(16))  # isbn / issn / doi / oclc
    value: Mapped[str] = mapped_column(String(200), index=True)

    record: Mapped[Record] = relationship(back_populates="identifiers")


class Holding(Base):
    """One item (copy) of a record in a member library."""

    __tablename__ = "holdings"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    library_code: Mapped[str] = mapped_column(ForeignKey("libraries.code"), index=True)
    barcode: Mapped[str | None] = mapped_column(String(64))
    call_number: Mapped[str | None] = mapped_column(String(100))
    location: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[HoldingStatus] = mapped_column(
        str_enum(HoldingStatus), default=HoldingStatus.AVAILABLE
    )
    due_date: Mapped[date | None] = mapped_column(Date)
    loanable: Mapped[bool] = mapped_column(Boolean, default=True)  # False = reference only
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    record: Mapped[Record] = relationship(back_populates="holdings")
    library: Mapped[Library] = relationship()


class HarvestState(Base):
    """Where an OAI-PMH harvest of one endpoint/set/format stands, so the next run goes on
    from there: after a complete run from ``next_from``; after a failed one from the
    resumption token of the last page that was stored."""

    __tablename__ = "catalog_harvests"
    __table_args__ = (UniqueConstraint("endpoint", "set_spec", "metadata_prefix"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(500))
    set_spec: Mapped[str] = mapped_column(String(200), default="")  # "" = whole repository
    metadata_prefix: Mapped[str] = mapped_column(String(64))
    # Datestamp to pass as ``from`` next time (the responseDate of the last complete run).
    next_from: Mapped[str | None] = mapped_column(String(32))
    # Token of the next page to ask for when the last run stopped early; None when complete.
    resumption_token: Mapped[str | None] = mapped_column(Text)
    run_from: Mapped[str | None] = mapped_column(String(32))  # ``from`` of the run under way
    run_started_at: Mapped[str | None] = mapped_column(String(32))  # its first responseDate
    pages: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CatalogWord(Base):
    """Words of titles, authors and subjects with how many records use them: the
    vocabulary that spelling suggestions are drawn from."""

    __tablename__ = "catalog_words"

    word: Mapped[str] = mapped_column(String(100), primary_key=True)
    frequency: Mapped[int] = mapped_column(Integer, default=0)
