"""Console pages for topical alerts: compose an announcement to a topic audience (live
preview in both languages with the audience count, publish now or at a local date and
time), the announcements scheduled and sent, and per-topic figures. The work is the
alerts API's (kb.alerts.announcements, kb.alerts.engagement); every view is written to
the staff access log. Any librarian may look and preview; sending to patrons is for
admins (kb.alerts.announcements.may_send, the API's rule too); a refused send is
logged."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from bot.console import auth
from bot.console.auth import Librarian
from bot.console.pages import _state, render
from kb.alerts import engagement
from kb.alerts.announcements import (
    SEND_REFUSED,
    AnnouncementError,
    Draft,
    listing,
    may_send,
    preview,
    publish,
)
from kb.alerts.timing import valid_zone, zone
from kb.staff import audit
from kb.staff.models import StaffMember

router = APIRouter(prefix="/console")

ZONES = [
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Tokyo",
    "Asia/Singapore",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
]


def _logged(session: Session, who: Librarian, action: str, outcome: int, detail: str) -> None:
    staff = session.get(StaffMember, who.id)
    assert staff is not None
    audit.record(session, staff, action, outcome=outcome, detail=detail[:200])


def _words(value: str) -> list[str]:
    return [w.strip() for w in value.replace("，", ",").replace("、", ",").split(",") if w.strip()]


def publish_time(day: str, at: str, zone_name: str) -> datetime | None:
    """The UTC instant of a local date and time in a zone; None = now."""
    if not day.strip():
        if at.strip():
            raise AnnouncementError("publish_date: give the date for the time")
        return None
    if not valid_zone(zone_name):
        raise AnnouncementError(f"timezone: unknown time zone {zone_name!r}")
    try:
        local_day = date.fromisoformat(day.strip())
        local_time = time.fromisoformat(at.strip()) if at.strip() else time(9, 0)
    except ValueError as exc:
        raise AnnouncementError(f"publish_date / publish_time: {exc}") from exc
    return datetime.combine(local_day, local_time, tzinfo=zone(zone_name))


def _draft(form: dict[str, str]) -> Draft:
    return Draft(
        title_zh=form.get("title_zh", "")[:300],
        title_en=form.get("title_en", "")[:300],
        text_zh=form.get("text_zh", "")[:2000],
        text_en=form.get("text_en", "")[:2000],
        url=form.get("url", "").strip() or None,
        topics=_words(form.get("topics", ""))[:50],
        keywords=_words(form.get("keywords", ""))[:50],
        publish_at=publish_time(
            form.get("publish_date", ""), form.get("publish_time", ""), form.get("timezone", "")
        ),
    )


async def _page(
    request: Request,
    who: Librarian,
    *,
    form: dict[str, str] | None = None,
    shown: dict[str, Any] | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    def work(session: Session) -> list[dict[str, Any]]:
        _logged(session, who, "console.alerts", status, "announcements")
        return listing(session)

    announcements = await _state(request).db.run(work)
    form = form or {"timezone": _state(request).settings.alerts_default_timezone}
    return render(
        request,
        "alerts.html",
        who,
        status=status,
        form=form,
        shown=shown,
        error=error,
        zones=ZONES,
        announcements=announcements,
        sent=request.query_params.get("sent"),
        can_send=may_send(who.role),
    )


@router.get("/alerts", response_class=HTMLResponse)
async def alerts_page(
    who: Annotated[Librarian, Depends(auth.librarian)], request: Request
) -> HTMLResponse:
    return await _page(request, who)


@router.post("/alerts")
async def alerts_submit(
    who: Annotated[Librarian, Depends(auth.librarian)],
    request: Request,
    csrf: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "preview",
) -> Response:
    auth.check_csrf(request, csrf, who.csrf)
    form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf"}
    if action == "publish" and not may_send(who.role):

        def refused(session: Session) -> None:
            _logged(session, who, "alerts_announce", 403, SEND_REFUSED)

        await _state(request).db.run(refused)
        raise HTTPException(403, SEND_REFUSED)
    try:
        draft = _draft(form)
    except AnnouncementError as exc:
        return await _page(request, who, form=form, error=str(exc), status=422)

    def work(session: Session) -> tuple[dict[str, Any], int | None]:
        shown = preview(session, draft)
        if action != "publish":
            return shown, None
        item = publish(session, draft, staff=who.username)
        _logged(session, who, "alerts_announce", 201, f"{item.id} {draft.title_en}")
        return shown, item.id

    try:
        shown, made = await _state(request).db.run(work)
    except AnnouncementError as exc:
        return await _page(request, who, form=form, error=str(exc), status=422)
    if made is not None:
        return RedirectResponse(f"/console/alerts?sent={made}", status_code=303)
    return await _page(request, who, form=form, shown=shown)


@router.post("/api/alerts/preview")
async def alerts_preview_api(
    who: Annotated[Librarian, Depends(auth.api_librarian)], request: Request
) -> JSONResponse:
    """The live preview the compose page shows as the librarian types."""
    try:
        body = await request.json()
        form = {k: str(v) for k, v in dict(body).items()}
    except (ValueError, TypeError):
        return JSONResponse({"error": "bad_request", "message": "a JSON object"}, 400)
    try:
        draft = _draft(form)
        shown = await _state(request).db.run(preview, draft)
    except AnnouncementError as exc:
        return JSONResponse({"error": "bad_request", "message": str(exc)}, 400)
    if draft.publish_at is not None:
        shown["publish_at"] = draft.publish_at.isoformat()
    return JSONResponse(shown)


@router.get("/alerts/stats", response_class=HTMLResponse)
async def alerts_stats_page(
    who: Annotated[Librarian, Depends(auth.librarian)],
    request: Request,
    days: int = 30,
) -> HTMLResponse:
    from datetime import timedelta

    from kb.db import utcnow

    days = max(1, min(days, 366))
    lang = "en" if request.query_params.get("lang") == "en" else None

    def work(session: Session) -> dict[str, Any]:
        from bot.console.i18n import language

        _logged(session, who, "console.alerts_stats", 200, f"{days} days")
        return engagement.figures(
            session, since=utcnow() - timedelta(days=days), language=lang or language(request)
        )

    data = await _state(request).db.run(work)
    return render(request, "alerts_stats.html", who, data=data, days=days)
