"""A small union catalog of Beijing libraries, patrons, and helpers for delivery tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from kb.catalog.models import (
    Holding,
    HoldingStatus,
    Library,
    Record,
    RecordFormat,
    RecordIdentifier,
)
from kb.delivery.citations import Citation
from kb.delivery.service import RequestDraft
from kb.delivery.states import DeliveryMethod, Genre, ServiceType
from kb.patrons.models import Patron

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

LIBRARIES = [
    # code, Chinese name, English name, lends, response days
    ("PKU", "北京大学图书馆", "Peking University Library", True, 2),
    ("THU", "清华大学图书馆", "Tsinghua University Library", True, 2),
    ("BNU", "北京师范大学图书馆", "Beijing Normal University Library", True, 3),
    ("RUC", "中国人民大学图书馆", "Renmin University of China Library", True, 2),
    ("BIT", "北京理工大学图书馆", "Beijing Institute of Technology Library", True, 2),
    ("CAP", "首都图书馆", "Capital Library", False, 2),
]


@dataclass
class Catalog:
    three_body: Record  # 《三体》, a book
    journal: Record  # 《图书情报工作》, a journal (articles are copied from it)
    deep_learning: Record


def _record(
    session: Session,
    source_id: str,
    title: str,
    fmt: RecordFormat,
    clc: str,
    ids: list[tuple[str, str]],
) -> Record:
    record = Record(source="test", source_id=source_id, title=title, format=fmt, clc=clc)
    record.identifiers = [RecordIdentifier(scheme=s, value=v) for s, v in ids]
    session.add(record)
    return record


def hold(
    record: Record,
    library: str,
    status: HoldingStatus = HoldingStatus.AVAILABLE,
    loanable: bool = True,
) -> Holding:
    holding = Holding(library_code=library, status=status, loanable=loanable)
    record.holdings.append(holding)
    return holding


def add_libraries(session: Session) -> None:
    for code, zh, en, lends, days in LIBRARIES:
        session.add(Library(code=code, name_zh=zh, name_en=en, lends=lends, response_days=days))


@pytest.fixture
def catalog(session: Session) -> Catalog:
    add_libraries(session)
    three_body = _record(
        session, "b1", "三体", RecordFormat.BOOK, "I247.55", [("isbn", "9787536692930")]
    )
    journal = _record(
        session, "j1", "图书情报工作", RecordFormat.JOURNAL, "G25", [("issn", "0252-3116")]
    )
    deep = _record(
        session, "b2", "Deep learning", RecordFormat.BOOK, "TP181", [("isbn", "9780262035613")]
    )
    session.flush()
    return Catalog(three_body, journal, deep)


@pytest.fixture
def patron(session: Session) -> Patron:
    p = Patron(language="zh", home_library="RUC", email="reader@example.org", name="王小明")
    session.add(p)
    session.flush()
    return p


@pytest.fixture
def other_patron(session: Session) -> Patron:
    p = Patron(language="en", home_library="BNU")
    session.add(p)
    session.flush()
    return p


def book_draft(
    isbn: str = "9787536692930", title: str = "三体", service: ServiceType = ServiceType.LOAN
) -> RequestDraft:
    return RequestDraft(
        citation=Citation(genre=Genre.BOOK, title=title, isbn=isbn),
        service_type=service,
        delivery_method=DeliveryMethod.PICKUP,
        pickup_library="RUC",
    )


def article_draft(doi: str | None = "10.13266/j.issn.0252-3116.2019.03.002") -> RequestDraft:
    return RequestDraft(
        citation=Citation(
            genre=Genre.ARTICLE,
            article_title="基于深度学习的图书推荐研究",
            journal="图书情报工作",
            issn="0252-3116",
            year=2019,
            volume="63",
            issue="3",
            pages="12-20",
            doi=doi,
        ),
        service_type=ServiceType.COPY,
        delivery_method=DeliveryMethod.EMAIL,
        contact_email="reader@example.org",
    )
