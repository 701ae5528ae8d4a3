"""Console pages: sign in/out, the desk, FAQ editing, canned replies, metrics (with
CSV export) and transcript search. Forms carry the CSRF token; Jinja escapes
everything, so text from patrons is shown as text."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console import auth, i18n
from bot.console.auth import Librarian
from bot.state import AppState
from kb.console.canned import CannedError, delete_canned, list_canned, save_canned
from kb.console.logins import login as check_login
from kb.console.logins import logout as end_session
from kb.console.metrics import report, to_csv
from kb.console.search import search_transcripts
from kb.faq.models import FaqAnswer
from kb.faq.service import FaqError, upsert_answer
from kb.staff import audit
from kb.staff.models import StaffMember

router = APIRouter(prefix="/console")


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.refdesk
    return state


def render(
    request: Request, name: str, who: Librarian | None, status: int = 200, **ctx: Any
) -> HTMLResponse:
    lang = i18n.language(request)
    response = _state(request).templates.TemplateResponse(
        request,
        f"console/{name}",
        {"t": i18n.words(lang), "lang": lang, "who": who, **ctx},
        status_code=status,
    )
    if request.query_params.get("lang") in ("zh", "en"):
        auth.set_cookie(response, request, i18n.LANG_COOKIE, lang, 365 * 86400)
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self' ws: wss:; frame-ancestors 'none'; form-action 'self'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


# --- signing in ---------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, error: str | None = None) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, csrf=token, error=error)
    auth.set_cookie(response, request, auth.LOGIN_CSRF_COOKIE, token, 3600)
    return response


@router.post("/login")
async def login_submit(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    t = i18n.words(i18n.language(request))
    expected = request.cookies.get(auth.LOGIN_CSRF_COOKIE, "")
    if not expected:
        return await login_page(request, t["bad_csrf"])
    try:
        auth.check_csrf(request, csrf, expected)
    except HTTPException:
        response = await login_page(request, t["bad_csrf"])
        response.status_code = 403
        return response
    state = _state(request)
    result = await state.db.run(check_login, state.settings, username, password)
    if result.token is None:
        if result.problem == "locked":
            minutes = int(state.settings.console_lockout_minutes)
            response = await login_page(request, t["locked"].format(minutes=minutes))
            response.status_code = 429
        else:
            response = await login_page(request, t["wrong_login"])
            response.status_code = 401
        return response
    done = RedirectResponse("/console", status_code=303)
    auth.set_cookie(
        done,
        request,
        auth.SESSION_COOKIE,
        result.token,
        int(state.settings.console_session_hours * 3600),
    )
    done.delete_cookie(auth.LOGIN_CSRF_COOKIE, path=auth.PATH)
    return done


@router.post("/logout")
async def logout(
    who: Annotated[Librarian, Depends(auth.librarian)], request: Request, csrf: str = Form("")
) -> Response:
    auth.check_csrf(request, csrf, who.csrf)
    state = _state(request)
    await state.db.run(end_session, request.cookies.get(auth.SESSION_COOKIE, ""))
    await state.db.run(_set_offline, who.id)
    await state.desk.announce_queue()
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path=auth.PATH)
    return response


def _set_offline(session: Session, staff_id: int) -> None:
    member = session.get(StaffMember, staff_id)
    if member is not None:
        member.console_status = "offline"


# --- the desk -----------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def desk(
    who: Annotated[Librarian, Depends(auth.librarian)], request: Request
) -> HTMLResponse:
    return render(request, "desk.html", who)


@router.get("/static/{name}")
async def static(name: str, request: Request) -> Response:
    types = {
        "console.js": "text/javascript",
        "console.css": "text/css",
        "alerts.js": "text/javascript",
    }
    if name not in types:
        raise HTTPException(404)
    return Response(_state(request).static_text(name), media_type=f"{types[name]}; charset=utf-8")


# --- FAQ ----------------------------------------------------------------------


def _faqs(session: Session) -> list[dict[str, str]]:
    rows = session.scalars(select(FaqAnswer).order_by(FaqAnswer.key)).all()
    return [
        {
            "key": r.key,
            "title_zh": r.title_zh,
            "title_en": r.title_en,
            "answer_zh": r.answer_zh,
            "answer_en": r.answer_en,
            "updated_by": r.updated_by or "",
        }
        for r in rows
    ]


@router.get("/faq", response_class=HTMLResponse)
async def faq_page(
    who: Annotated[Librarian, Depends(auth.librarian)], request: Request
) -> HTMLResponse:
    faqs = await _state(request).db.run(_faqs)
    return render(request, "faq.html", who, faqs=faqs, saved=request.query_params.get("saved"))


@router.post("/faq/{key}")
async def faq_save(
    who: Annotated[Librarian, Depends(auth.librarian)],
    key: str,
    request: Request,
    csrf: str = Form(""),
    title_zh: str = Form(""),
    title_en: str = Form(""),
    answer_zh: str = Form(""),
    answer_en: str = Form(""),
) -> Response:
    auth.check_csrf(request, csrf, who.csrf)
    if not who.admin:
        raise HTTPException(403, "only an admin can edit the FAQ")
    try:
        await _state(request).db.run(
            lambda s: upsert_answer(
                s,
                key,
                title_zh=title_zh,
                title_en=title_en,
                answer_zh=answer_zh,
                answer_en=answer_en,
                editor=who.username,
            )
        )
    except FaqError as exc:
        raise HTTPException(422, str(exc)) from exc
    return RedirectResponse(f"/console/faq?saved={key}", status_code=303)


# --- canned replies -------------------------------------------------------------


@router.get("/canned", response_class=HTMLResponse)
async def canned_page(
    who: Annotated[Librarian, Depends(auth.librarian)], request: Request
) -> HTMLResponse:
    rows = await _state(request).db.run(
        lambda s: [
            {"id": c.id, "title": c.title, "zh": c.text_zh, "en": c.text_en} for c in list_canned(s)
        ]
    )
    return render(request, "canned.html", who, canned=rows)


@router.post("/canned")
async def canned_save(
    who: Annotated[Librarian, Depends(auth.librarian)],
    request: Request,
    csrf: str = Form(""),
    canned_id: int | None = Form(None),
    title: str = Form(""),
    text_zh: str = Form(""),
    text_en: str = Form(""),
    delete: str = Form(""),
) -> Response:
    auth.check_csrf(request, csrf, who.csrf)
    db = _state(request).db
    if delete and canned_id:
        await db.run(delete_canned, canned_id)
    else:
        try:
            await db.run(save_canned, canned_id, title, text_zh, text_en, who.username)
        except CannedError as exc:
            raise HTTPException(422, str(exc)) from exc
    return RedirectResponse("/console/canned", status_code=303)


# --- metrics --------------------------------------------------------------------


@router.get("/metrics", response_class=HTMLResponse)
async def metrics_page(
    who: Annotated[Librarian, Depends(auth.librarian)], request: Request, days: int = 30
) -> HTMLResponse:
    rep = await _state(request).db.run(report, max(1, min(days, 366)))
    if not who.admin:  # librarians see the desk as a whole and themselves
        rep.per_librarian = {k: v for k, v in rep.per_librarian.items() if k == who.username}
    return render(request, "metrics.html", who, rep=rep, days=days)


@router.get("/metrics.csv")
async def metrics_csv(
    who: Annotated[Librarian, Depends(auth.admin)], request: Request, days: int = 30
) -> Response:
    rep = await _state(request).db.run(report, max(1, min(days, 366)))
    return Response(
        to_csv(rep),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="live-chat-{days}d.csv"'},
    )


# --- transcript search and a transcript page -------------------------------------


def _search(session: Session, q: str, staff_id: int) -> list[dict[str, Any]]:
    staff = session.get(StaffMember, staff_id)
    assert staff is not None
    hits = search_transcripts(session, q)
    audit.record(session, staff, "console.search", outcome=200, detail=f"{len(hits)} hit(s)")
    return hits


@router.get("/search", response_class=HTMLResponse)
async def search_page(
    who: Annotated[Librarian, Depends(auth.librarian)], request: Request, q: str = ""
) -> HTMLResponse:
    hits = await _state(request).db.run(_search, q, who.id) if q.strip() else []
    return render(request, "search.html", who, q=q, hits=hits)


@router.get("/chats/{chat_id}", response_class=HTMLResponse)
async def chat_page(
    who: Annotated[Librarian, Depends(auth.librarian)], chat_id: int, request: Request
) -> HTMLResponse:
    from bot.console.api import _transcript

    chat = await _state(request).db.run(_transcript, chat_id, who)
    if chat is None:
        raise HTTPException(404, f"there is no chat {chat_id}")
    return render(request, "transcript.html", who, chat=chat)
