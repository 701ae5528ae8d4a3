"""Console pages for patron feedback: the list (filter by kind and status), marking
one read or handled with a note, and a CSV export. Every view is audited like the
staff API's (``console.feedback``, ``console.feedback.export``, ``…read``, ``…handle``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from bot.console import auth
from bot.console.auth import Librarian
from bot.console.pages import _state, render
from kb import feedback
from kb.staff import audit
from kb.staff.models import StaffMember

router = APIRouter(prefix="/console")


def _filters(
    kind: str, status: str
) -> tuple[feedback.FeedbackKind | None, feedback.FeedbackStatus | None]:
    """Unknown filter values mean "all" (a hand-edited URL still shows a page)."""
    kinds = {k.value: k for k in feedback.FeedbackKind}
    states = {s.value: s for s in feedback.FeedbackStatus}
    return kinds.get(kind), states.get(status)


def _staff(session: Session, who: Librarian) -> StaffMember:
    staff = session.get(StaffMember, who.id)
    assert staff is not None
    return staff


def _list(session: Session, who: Librarian, kind: str, status: str) -> list[dict[str, Any]]:
    wanted, state = _filters(kind, status)
    rows = feedback.list_feedback(session, kind=wanted, status=state, limit=500)
    audit.record(
        session,
        _staff(session, who),
        "console.feedback",
        outcome=200,
        detail=f"kind={kind or 'all'} status={status or 'all'}: {len(rows)} shown",
    )
    return [feedback.as_dict(r) for r in rows]


@router.get("/feedback", response_class=HTMLResponse)
async def feedback_page(
    who: Annotated[Librarian, Depends(auth.librarian)],
    request: Request,
    kind: str = "",
    status: str = "",
) -> HTMLResponse:
    rows = await _state(request).db.run(_list, who, kind, status)
    return render(
        request,
        "feedback.html",
        who,
        rows=rows,
        kind=kind,
        status_filter=status,
        kinds=[k.value for k in feedback.FeedbackKind],
        statuses=[s.value for s in feedback.FeedbackStatus],
    )


def _export(session: Session, who: Librarian, kind: str, status: str) -> str:
    wanted, state = _filters(kind, status)
    rows = feedback.list_feedback(session, kind=wanted, status=state, limit=None)
    audit.record(
        session, _staff(session, who), "console.feedback.export", outcome=200,
        detail=f"kind={kind or 'all'} status={status or 'all'}: {len(rows)} rows",
    )  # fmt: skip
    return feedback.to_csv(rows)


@router.get("/feedback.csv")
async def feedback_csv(
    who: Annotated[Librarian, Depends(auth.librarian)],
    request: Request,
    kind: str = "",
    status: str = "",
) -> Response:
    text = await _state(request).db.run(_export, who, kind, status)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="feedback.csv"'},
    )


def _update(session: Session, who: Librarian, fid: int, action: str, note: str) -> None:
    if action == "handled":
        feedback.mark_handled(session, fid, staff=who.username, note=note)
    else:
        feedback.mark_seen(session, fid, who.username)
    audit.record(
        session, _staff(session, who), f"console.feedback.{'handle' if action == 'handled' else 'read'}",
        outcome=200, ticket=f"FB-{fid:06d}",
    )  # fmt: skip


@router.post("/feedback/{fid}")
async def feedback_update(
    who: Annotated[Librarian, Depends(auth.librarian)],
    fid: int,
    request: Request,
    csrf: str = Form(""),
    action: str = Form("read"),
    note: str = Form(""),
    back: str = Form(""),
) -> Response:
    auth.check_csrf(request, csrf, who.csrf)
    if action not in ("read", "handled"):
        raise HTTPException(422, "action must be read or handled")
    try:
        await _state(request).db.run(_update, who, fid, action, note)
    except feedback.FeedbackNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except feedback.FeedbackError as exc:
        raise HTTPException(422, str(exc)) from exc
    # Back to the same filtered list; only our own query strings are followed.
    target = "/console/feedback" + (back if back.startswith("?") else "")
    return RedirectResponse(f"{target}#fb-{fid}", status_code=303)
