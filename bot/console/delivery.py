"""Document-delivery pages of the console: the library's queue, one request, the report.

Every move is a plain HTML form POST (with the session's CSRF token) that goes
through :mod:`bot.delivery.moves` -- the same access checks, domain calls and
audit rows as ``/api/delivery`` -- so a button and an API call cannot disagree.
A refused move (another librarian acted first, a stale page, another library's
request) re-renders the page with what went wrong, never a 500.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from bot.console import auth, i18n
from bot.console.auth import Librarian
from bot.console.pages import render
from bot.delivery import moves, views
from bot.delivery.auth import actor_of
from bot.delivery.errors import ApiError, audited
from bot.delivery.metrics_api import parse_day
from bot.state import AppState
from kb.db import utcnow
from kb.delivery import queues, transitions
from kb.delivery.metrics import delivery_report, report_csv
from kb.delivery.states import Event, Status
from kb.delivery.texts import REASON_NAMES
from kb.staff.models import StaffMember

router = APIRouter(prefix="/console/delivery")
Signed = Annotated[Librarian, Depends(auth.librarian)]
NOTE_MAX = 2000

# The console's buttons, by the event each one causes (the transition table decides
# which show); cancel and route are the delivery centre's alone, as in the API.
ACTIONS: dict[str, Event] = {
    "accept": Event.WILL_SUPPLY,
    "conditional": Event.CONDITIONAL,
    "supply": Event.SUPPLY_COPY,
    "ship-loan": Event.SHIP_LOAN,
    "reject": Event.UNFILLED,
    "forward": Event.FORWARD,
    "complete": Event.COMPLETE,
    "cancel": Event.CANCEL,
    "route": Event.ROUTE,
}
CENTRE_ONLY = {"cancel": "cancel requests", "route": "choose lenders"}
# Moves after which the request is no longer with the lender who made them.
HANDS_ON = ("reject", "forward")


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.refdesk
    return state


async def _staff(request: Request, who: Librarian) -> StaffMember:
    member = await _state(request).db.run(lambda s: s.get(StaffMember, who.id))
    assert member is not None  # a signed-in session belongs to a staff member
    return member


def allowed_actions(status: Status, staff: StaffMember) -> list[str]:
    """The buttons for exactly the moves this staff member may make now."""
    role = actor_of(staff).role
    events = set(transitions.allowed_events(status, role))
    return [
        name
        for name, event in ACTIONS.items()
        if event in events and (name not in CENTRE_ONLY or staff.at_centre)
    ]


# --- the queue -------------------------------------------------------------------


def _line(r: Any, now: Any) -> dict[str, Any]:
    return {
        "ticket": r.ticket,
        "status": r.status.value,
        "title": r.article_title or r.title or "",
        "source": r.journal if r.article_title else None,
        "service_type": r.service_type.value,
        "lender": r.current_lender,
        "need_before": r.need_before,
        "age_days": max(0, (now - r.created_at).days),
        "due": r.answer_due_at,
        "overdue": bool(r.answer_due_at and r.answer_due_at < now and r.status.is_open),
    }


@router.get("", response_class=HTMLResponse)
async def queue_page(
    who: Signed,
    request: Request,
    tab: str = "new",
    sort: str = "need_before",
    q: str = "",
    done: str = "",
    ticket: str = "",
) -> HTMLResponse:
    staff = await _staff(request, who)
    chosen = queues.Tab(tab) if tab in queues.Tab.__members__.values() else queues.Tab.NEW
    order = queues.Sort(sort) if sort in queues.Sort.__members__.values() else queues.Sort.AGE
    q = q.strip()[:40]

    def work(session: Session) -> dict[str, Any]:
        now = utcnow()
        code = staff.library_code
        rows = queues.requests_in(session, code, chosen, now=now, sort=order, search=q)
        counts = queues.tab_counts(session, code, now=now, search=q)
        return {"rows": [_line(r, now) for r in rows], "counts": counts}

    found = await audited(
        _state(request), staff, "delivery.queue", work, detail=f"console {chosen.value}"
    )
    return render(
        request,
        "delivery_queue.html",
        who,
        library=staff.library_code,
        tabs=list(queues.Tab),
        tab=chosen.value,
        sort=order.value,
        q=q,
        done=done if done in HANDS_ON else None,
        done_ticket=ticket[:20],
        **found,
    )


# --- the report (before /{ticket}, which would take "metrics" for a ticket) ---------------


def _period(start: str | None, end: str | None) -> tuple[date, date]:
    today = utcnow().date()
    first = parse_day("from", start) if start else today - timedelta(days=29)
    last = parse_day("to", end) if end else today
    if last < first:
        raise ApiError(400, "bad_period", f"'to' ({last}) is before 'from' ({first})")
    return first, last


@router.get("/metrics", response_class=HTMLResponse)
async def metrics_page(who: Signed, request: Request) -> HTMLResponse:
    """The report for ``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (default: the last 30 days)."""
    start = request.query_params.get("from") or None
    end = request.query_params.get("to") or None
    lang = i18n.language(request)
    staff = await _staff(request, who)
    try:
        first, last = _period(start, end)
    except ApiError as exc:
        return render(
            request, "delivery_metrics.html", who, status=400, error=exc.message, rep=None,
            start=start or "", end=end or "",
        )  # fmt: skip
    rep = await audited(
        _state(request),
        staff,
        "delivery.metrics",
        lambda s: delivery_report(s, first, last, lang),
        detail=f"console {first}..{last}",
    )
    peak = max([1, *(r.requests for r in rep.by_lender)])
    return render(
        request,
        "delivery_metrics.html",
        who,
        rep=rep,
        start=first.isoformat(),
        end=last.isoformat(),
        peak=peak,
        error=None,
    )


@router.get("/metrics.csv")
async def metrics_csv(who: Signed, request: Request) -> Response:
    """The same CSV as ``/api/delivery/metrics?format=csv``, for a signed-in librarian."""
    lang = i18n.language(request)
    staff = await _staff(request, who)
    try:
        first, last = _period(request.query_params.get("from"), request.query_params.get("to"))
    except ApiError as exc:
        return Response(exc.message, status_code=400, media_type="text/plain; charset=utf-8")
    text = await audited(
        _state(request),
        staff,
        "delivery.metrics",
        lambda s: report_csv(delivery_report(s, first, last, lang), lang),
        detail=f"console {first}..{last} csv",
    )
    name = f"delivery-report-{first}-{last}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- one request ------------------------------------------------------------------


def _reasons(request: Request) -> list[tuple[str, str]]:
    lang = i18n.language(request)
    return [(r.value, REASON_NAMES[r][lang]) for r in moves.LENDER_REASONS]


async def _detail_page(
    request: Request,
    who: Librarian,
    staff: StaffMember,
    ticket: str,
    *,
    show_contact: bool = False,
    error: ApiError | None = None,
    done: str | None = None,
) -> HTMLResponse:
    """The request's page; with ``error`` it answers that error's status (after a refused move)."""

    def work(session: Session) -> dict[str, Any]:
        found = moves.request_for(session, ticket, staff)
        data = views.detail(found, actor_of(staff).role)
        if not show_contact:
            data["contact"] = None
            data["notes"] = None  # what the patron wrote is personal too
        data["actions"] = allowed_actions(found.status, staff)
        return data

    why = "contact_viewed" if show_contact else "console"
    try:
        data = await audited(
            _state(request), staff, "delivery.view", work, ticket=ticket, detail=why
        )
    except ApiError as exc:
        shown = error or exc  # after a refused move, say why that move was refused
        return render(
            request, "delivery_request.html", who, status=shown.status, req=None, error=shown,
            ticket=ticket, reasons=_reasons(request), done=None,
        )  # fmt: skip
    return render(
        request,
        "delivery_request.html",
        who,
        status=error.status if error else 200,
        req=data,
        error=error,
        ticket=data["ticket"],
        reasons=_reasons(request),
        done=done if done in ACTIONS else None,
        centre=staff.at_centre,
    )


@router.get("/{ticket}", response_class=HTMLResponse)
async def request_page(
    who: Signed, request: Request, ticket: str, contact: str = "", done: str = ""
) -> HTMLResponse:
    staff = await _staff(request, who)
    return await _detail_page(
        request, who, staff, ticket, show_contact=contact == "1", done=done or None
    )


def _note(text: str) -> str | None:
    text = text.strip()
    if len(text) > NOTE_MAX:
        raise ApiError(400, "note_too_long", f"the note is longer than {NOTE_MAX} characters")
    return text or None


def _move_for(
    action: str,
    note: str | None,
    *,
    reason: str,
    link: str,
    libraries: str,
    upload: UploadFile | None,
) -> moves.Move:
    """The move a form asks for, with what the form gave."""
    if action == "accept":
        return moves.accept(note)
    if action == "conditional":
        return moves.conditional(note or "")
    if action == "reject":
        return moves.reject(reason, note)
    if action == "forward":
        return moves.forward(note)
    if action == "ship-loan":
        return moves.ship_loan(note)
    if action == "complete":
        return moves.complete(note)
    if action == "cancel":
        return moves.cancel(note)
    if action == "route":
        codes = [c.strip().upper() for c in libraries.replace(",", " ").split() if c.strip()]
        return moves.route(codes)
    return moves.supply(
        filename=upload.filename if upload else None,
        content=upload.file if upload else None,
        content_type=upload.content_type if upload else None,
        link=link.strip() or None,
        note=note,
    )


@router.post("/{ticket}/{action}")
async def act(
    who: Signed,
    request: Request,
    ticket: str,
    action: str,
    csrf: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    link: Annotated[str, Form()] = "",
    libraries: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    auth.check_csrf(request, csrf, who.csrf)
    staff = await _staff(request, who)
    if action not in ACTIONS:
        error = ApiError(404, "unknown_action", f"there is no action {action!r}")
        return await _detail_page(request, who, staff, ticket, error=error)
    upload = file if file is not None and file.filename else None
    try:
        move = _move_for(
            action, _note(note), reason=reason, link=link, libraries=libraries, upload=upload
        )
        await moves.act(
            _state(request),
            staff,
            ticket,
            action.replace("-", "_"),
            move,
            centre_only_for=CENTRE_ONLY.get(action),
            detail="console",
        )
    except ApiError as exc:
        return await _detail_page(request, who, staff, ticket, error=exc)
    finally:
        if file is not None:
            await file.close()
    if action in HANDS_ON and not staff.at_centre:  # it is with another library now
        return RedirectResponse(
            f"/console/delivery?done={action}&ticket={quote(ticket)}", status_code=303
        )
    return RedirectResponse(f"/console/delivery/{quote(ticket)}?done={action}", status_code=303)
