"""``GET /api/delivery/metrics``: the BALIS-shaped delivery report, as JSON or CSV."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from bot.delivery.auth import current_staff
from bot.delivery.errors import ApiError, audited
from bot.state import AppState
from kb.delivery.metrics import delivery_report, report_csv
from kb.staff.models import StaffMember

router = APIRouter(prefix="/api/delivery", tags=["delivery"])
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(name: str, text: str | None) -> date:
    """A report bound given as YYYY-MM-DD; a 400 naming the parameter otherwise."""
    if not text:
        raise ApiError(400, "bad_date", f"parameter '{name}' is missing: give a date as YYYY-MM-DD")
    try:
        if not _DATE.match(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ApiError(
            400, "bad_date", f"parameter '{name}' is {text!r}: give a real date as YYYY-MM-DD"
        ) from None


@router.get("/metrics", response_model=None)
async def metrics(
    request: Request,
    staff: Annotated[StaffMember, Depends(current_staff)],
    start: Annotated[str | None, Query(alias="from", description="first day, YYYY-MM-DD")] = None,
    end: Annotated[str | None, Query(alias="to", description="last day, YYYY-MM-DD")] = None,
    lang: Annotated[str, Query(description="zh or en (names and CSV headers)")] = "zh",
    format: Annotated[str, Query(description="json or csv")] = "json",
) -> Response:
    """Requests opened from ``from`` to ``to`` (both included), by lender, library and subject."""
    state: AppState = request.app.state.refdesk

    def work(session: Session) -> tuple[dict[str, Any], str | None]:
        first, last = parse_day("from", start), parse_day("to", end)
        if last < first:
            raise ApiError(400, "bad_period", f"'to' ({last}) is before 'from' ({first})")
        if lang not in ("zh", "en"):
            raise ApiError(400, "bad_lang", f"parameter 'lang' is {lang!r}: use zh or en")
        if format not in ("json", "csv"):
            raise ApiError(400, "bad_format", f"parameter 'format' is {format!r}: use json or csv")
        report = delivery_report(session, first, last, lang)
        return report.as_dict(), report_csv(report, lang) if format == "csv" else None

    data, csv_text = await audited(
        state, staff, "delivery.metrics", work, detail=f"{start}..{end} {format}"
    )
    if csv_text is None:
        return JSONResponse(data)
    name = f"delivery-report-{data['start']}-{data['end']}.csv"
    return Response(
        csv_text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
