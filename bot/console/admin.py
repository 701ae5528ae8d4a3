"""Admin pages of the console: staff accounts (/console/staff) and service hours
(/console/hours). Only admins; every POST carries the CSRF token; every change is
written to the staff access log (``console.staff.*``, ``console.hours.*``). A refused
change re-renders the page with the reason, naming the field (422)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from bot.console import auth
from bot.console.auth import Librarian
from bot.console.pages import _state, render
from kb.console import service_hours, staff_admin
from kb.console.availability import HoursError
from kb.db import utcnow
from kb.staff import audit
from kb.staff.models import StaffMember
from kb.staff.service import StaffError, list_staff

router = APIRouter(prefix="/console")
Admin = Annotated[Librarian, Depends(auth.admin)]


def _audit(session: Session, who: Librarian, action: str, detail: str) -> None:
    staff = session.get(StaffMember, who.id)
    assert staff is not None
    audit.record(session, staff, action, outcome=200, detail=detail)


async def _change(
    request: Request,
    who: Librarian,
    csrf: str,
    action: str,
    detail: str,
    step: Callable[[Session], object],
    page: str,
) -> Response:
    """Run one admin change with its audit row; refused: the page again with why."""
    auth.check_csrf(request, csrf, who.csrf)

    def work(session: Session) -> None:
        step(session)
        _audit(session, who, action, detail)

    try:
        await _state(request).db.run(work)
    except (StaffError, HoursError) as exc:
        show = staff_page if page == "staff" else hours_page
        response = await show(who, request, error=str(exc))
        response.status_code = 422
        return response
    return RedirectResponse(f"/console/{page}?saved=1", status_code=303)


# --- staff accounts ----------------------------------------------------------------


def _staff_rows(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "username": m.username,
            "display_name": m.display_name,
            "role": m.role.value,
            "department": m.department or "",
            "active": m.active,
            "has_password": m.password_hash is not None,
            "status": m.console_status,
        }
        for m in list_staff(session)
    ]


@router.get("/staff", response_class=HTMLResponse)
async def staff_page(who: Admin, request: Request, error: str | None = None) -> HTMLResponse:
    rows = await _state(request).db.run(_staff_rows)
    saved = request.query_params.get("saved") and not error
    return render(request, "staff.html", who, staff=rows, error=error, saved=saved)


@router.post("/staff")
async def staff_create(
    who: Admin,
    request: Request,
    csrf: str = Form(""),
    username: str = Form(""),
    display_name: str = Form(""),
    role: str = Form("librarian"),
    department: str = Form(""),
    password: str = Form(""),
) -> Response:
    def step(session: Session) -> object:
        return staff_admin.create_librarian(
            session,
            username,
            display_name=display_name,
            role=role,
            department=department,
            password=password,
        )

    detail = f"created {username.strip().lower()} ({role})"
    return await _change(request, who, csrf, "console.staff.create", detail, step, "staff")


@router.post("/staff/{username}")
async def staff_update(
    who: Admin,
    username: str,
    request: Request,
    csrf: str = Form(""),
    role: str = Form("librarian"),
    department: str = Form(""),
    display_name: str = Form(""),
) -> Response:
    def step(session: Session) -> object:
        return staff_admin.update_member(
            session,
            username,
            acting=who.username,
            role=role,
            department=department,
            display_name=display_name,
        )

    detail = f"{username}: role {role}, department {department.strip() or '-'}"
    return await _change(request, who, csrf, "console.staff.update", detail, step, "staff")


@router.post("/staff/{username}/password")
async def staff_password(
    who: Admin, username: str, request: Request, csrf: str = Form(""), password: str = Form("")
) -> Response:
    def step(session: Session) -> object:
        return staff_admin.reset_password(session, username, password)

    detail = f"password of {username} reset"
    return await _change(request, who, csrf, "console.staff.password", detail, step, "staff")


@router.post("/staff/{username}/deactivate")
async def staff_deactivate(
    who: Admin, username: str, request: Request, csrf: str = Form("")
) -> Response:
    def step(session: Session) -> object:
        return staff_admin.deactivate(session, username, acting=who.username)

    detail = f"{username} deactivated"
    return await _change(request, who, csrf, "console.staff.deactivate", detail, step, "staff")


# --- service hours ---------------------------------------------------------------------


def _hours(session: Session, settings: Any) -> dict[str, Any]:
    return {
        "week": [
            {
                "weekday": d.weekday,
                "name": d.name,
                "hours": service_hours.format_spans(d.spans) if d.spans else "",
                "overridden": d.overridden,
                "updated_by": d.updated_by or "",
            }
            for d in service_hours.week(session, settings)
        ],
        "holidays": [
            {"day": h.day.isoformat() if h.day else "", "note": h.note or ""}
            for h in service_hours.holidays(session, since=utcnow().date())
        ],
        "default": settings.console_service_hours,
        "timezone": settings.console_timezone,
    }


@router.get("/hours", response_class=HTMLResponse)
async def hours_page(who: Admin, request: Request, error: str | None = None) -> HTMLResponse:
    state = _state(request)
    data = await state.db.run(_hours, state.settings)
    saved = request.query_params.get("saved") and not error
    return render(request, "hours.html", who, error=error, saved=saved, **data)


@router.post("/hours/weekday/{weekday}")
async def hours_weekday(
    who: Admin,
    weekday: int,
    request: Request,
    csrf: str = Form(""),
    hours: str = Form(""),
    reset: str = Form(""),
) -> Response:
    value = "" if reset else (hours.strip() or "closed")

    def step(session: Session) -> None:
        service_hours.set_weekday(session, weekday, value, who.username)

    detail = f"weekday {weekday}: {value or 'default'}"
    return await _change(request, who, csrf, "console.hours.weekday", detail, step, "hours")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise HoursError(f"date {text.strip()!r}: expected e.g. 2026-10-01") from None


@router.post("/hours/holidays")
async def hours_holiday_add(
    who: Admin, request: Request, csrf: str = Form(""), day: str = Form(""), note: str = Form("")
) -> Response:
    def step(session: Session) -> None:
        service_hours.add_holiday(session, _day(day), note, who.username)

    detail = f"holiday {day.strip()} closed"
    return await _change(request, who, csrf, "console.hours.holiday", detail, step, "hours")


@router.post("/hours/holidays/{day}/delete")
async def hours_holiday_remove(
    who: Admin, day: str, request: Request, csrf: str = Form("")
) -> Response:
    def step(session: Session) -> None:
        service_hours.remove_holiday(session, _day(day))

    detail = f"holiday {day} removed"
    return await _change(request, who, csrf, "console.hours.holiday", detail, step, "hours")
