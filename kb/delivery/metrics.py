"""Delivery statistics in the shape of the BALIS document-delivery report.

Per lender (requests *received*): satisfied / rejected / forwarded / no answer,
fill rate and average and median days from receiving to supplying. Per
requesting library (requests *sent* by its patrons) and per subject (CLC
top-level class of the matched record): requests, satisfied, unfilled,
cancelled, still open, fill rate and average and median completion days
(opening to supply, BALIS's "完成天数").

Counting rules: a request belongs to the period it was opened in, a lender's
receipt to the period it was sent in (dates are UTC days, ``end`` included).
Fill rate = satisfied / (satisfied + unfilled): cancelled and still-open
requests have no outcome yet; for a lender, every answer counts, a lapsed
response time as well.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.catalog.models import Library
from kb.delivery.models import DeliveryRequest, RotaEntry
from kb.delivery.states import RotaState, Status
from kb.delivery.texts import CLC_CLASSES, lang_of

T = TypeVar("T")


@dataclass
class Row:
    section: str  # lender / requesting_library / subject / total
    code: str
    name: str = ""
    requests: int = 0  # received (lenders) or sent (the others)
    satisfied: int = 0
    rejected: int = 0  # lenders: unfilled answers; others: requests ending unfilled
    forwarded: int = 0
    no_answer: int = 0
    cancelled: int = 0
    open: int = 0
    days: list[float] = field(default_factory=list, repr=False)

    @property
    def fill_rate(self) -> float | None:
        outcomes = self.satisfied + self.rejected + self.forwarded + self.no_answer
        return self.satisfied / outcomes if outcomes else None

    @property
    def average_days(self) -> float | None:
        return statistics.fmean(self.days) if self.days else None

    @property
    def median_days(self) -> float | None:
        return statistics.median(self.days) if self.days else None

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        del data["days"]
        return {
            **data,
            "fill_rate": self.fill_rate,
            "average_days": self.average_days,
            "median_days": self.median_days,
        }


@dataclass
class Report:
    start: date
    end: date
    total: Row
    by_lender: list[Row]
    by_requesting_library: list[Row]
    by_subject: list[Row]

    def rows(self) -> Iterable[Row]:
        yield self.total
        yield from self.by_lender
        yield from self.by_requesting_library
        yield from self.by_subject

    def as_dict(self) -> dict[str, object]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "total": self.total.as_dict(),
            "by_lender": [r.as_dict() for r in self.by_lender],
            "by_requesting_library": [r.as_dict() for r in self.by_requesting_library],
            "by_subject": [r.as_dict() for r in self.by_subject],
        }


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    if end < start:
        raise ValueError(f"the report period ends ({end}) before it starts ({start})")
    return datetime.combine(start, time(), UTC), datetime.combine(
        end + timedelta(days=1), time(), UTC
    )


def _count_request(row: Row, request: DeliveryRequest) -> None:
    row.requests += 1
    if request.supplied_at is not None:
        row.satisfied += 1
        row.days.append(request.completion_days or 0.0)
    elif request.status is Status.UNFILLED:
        row.rejected += 1
    elif request.status is Status.CANCELLED:
        row.cancelled += 1
    else:
        row.open += 1


def _count_answer(row: Row, entry: RotaEntry) -> None:
    row.requests += 1
    if entry.state is RotaState.FILLED:
        row.satisfied += 1
        row.days.append(entry.answer_days or 0.0)
    elif entry.state is RotaState.UNFILLED:
        row.rejected += 1
    elif entry.state is RotaState.FORWARDED:
        row.forwarded += 1
    elif entry.state is RotaState.NO_ANSWER:
        row.no_answer += 1
    elif entry.state is RotaState.SENT:
        row.open += 1
    else:  # withdrawn (cancelled meanwhile) or declined conditions
        row.cancelled += 1


def _grouped(
    section: str,
    items: Iterable[T],
    key: Callable[[T], str | None],
    count: Callable[[Row, T], None],
    name: Callable[[str], str],
) -> list[Row]:
    rows: dict[str, Row] = {}
    for item in items:
        code = key(item) or "?"
        row = rows.setdefault(code, Row(section, code, name(code)))
        count(row, item)
    return sorted(rows.values(), key=lambda r: (-r.requests, r.code))


def delivery_report(session: Session, start: date, end: date, language: str = "zh") -> Report:
    lang = lang_of(language)
    lo, hi = _bounds(start, end)
    names = {lib.code: lib.name(lang) for lib in session.scalars(select(Library))}
    unknown = "未知" if lang == "zh" else "unknown"
    requests = list(
        session.scalars(
            select(DeliveryRequest).where(
                DeliveryRequest.created_at >= lo, DeliveryRequest.created_at < hi
            )
        )
    )
    answers = list(
        session.scalars(
            select(RotaEntry).where(
                RotaEntry.sent_at >= lo,
                RotaEntry.sent_at < hi,
                RotaEntry.state != RotaState.SKIPPED,
            )
        )
    )
    total = Row("total", "*", "合计" if lang == "zh" else "total")
    for request in requests:
        _count_request(total, request)
    return Report(
        start=start,
        end=end,
        total=total,
        by_lender=_grouped(
            "lender", answers, lambda e: e.library_code, _count_answer, lambda c: names.get(c, c)
        ),
        by_requesting_library=_grouped(
            "requesting_library",
            requests,
            lambda r: r.requesting_library,
            _count_request,
            lambda c: names.get(c, unknown),
        ),
        by_subject=_grouped(
            "subject",
            requests,
            lambda r: r.subject_class,
            _count_request,
            lambda c: CLC_CLASSES.get(c, {}).get(lang, unknown),
        ),
    )


_HEADERS = {
    "zh": [
        "类别",
        "代码",
        "名称",
        "请求数",
        "满足",
        "拒绝",
        "转发",
        "未答复",
        "取消",
        "处理中",
        "满足率",
        "平均天数",
        "中位天数",
    ],
    "en": [
        "section",
        "code",
        "name",
        "requests",
        "satisfied",
        "rejected",
        "forwarded",
        "no answer",
        "cancelled",
        "open",
        "fill rate",
        "average days",
        "median days",
    ],
}
_SECTIONS = {
    "zh": {
        "total": "合计",
        "lender": "提供馆（接收）",
        "requesting_library": "申请馆（发送）",
        "subject": "学科",
    },
    "en": {
        "total": "total",
        "lender": "lender (received)",
        "requesting_library": "requesting library (sent)",
        "subject": "subject",
    },
}


def _num(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def report_csv(report: Report, language: str = "zh") -> str:
    """The report as CSV (UTF-8 with a BOM, so spreadsheet programs read the Chinese)."""
    lang = lang_of(language)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(_HEADERS[lang])
    for row in report.rows():
        writer.writerow(
            [
                _SECTIONS[lang][row.section],
                row.code,
                row.name,
                row.requests,
                row.satisfied,
                row.rejected,
                row.forwarded,
                row.no_answer,
                row.cancelled,
                row.open,
                _num(row.fill_rate, 3),
                _num(row.average_days, 2),
                _num(row.median_days, 2),
            ]
        )
    return out.getvalue()
