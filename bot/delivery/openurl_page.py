"""Where link resolvers and databases send patrons: ``GET /openurl`` (OpenURL 1.0 KEV or 0.1).

The page shows what the link names, in both languages, and a button into the
web chat carrying a signed, short-lived draft token (``/chat?draft=<token>``);
the chat fetches the draft from ``GET /api/delivery/drafts/{token}``. A link
that names no item is answered 400 with what was wrong; one that names an item
but lacks what a librarian needs is answered 400 too, listing what is missing,
yet still offers the button, since the chat can ask for the rest. Either way
what was sent is shown back.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.orm import Session

from bot.delivery.pages import languages_of, render
from bot.state import AppState
from kb.db import utcnow
from kb.delivery import drafts
from kb.delivery.citations import BIBLIOGRAPHIC_FIELDS, Citation
from kb.delivery.openurl import OpenUrlResult, parse_openurl
from kb.delivery.texts import FIELD_NAMES, GENRE_NAMES, Problem

router = APIRouter()

_NO_QUERY = Problem("openurl_no_query", "link")
_DRAFT_REFUSED = {
    "malformed": 404,
    "bad_signature": 404,
    "gone": 404,
    "expired": 410,
}
_DRAFT_MESSAGES = {
    404: {
        "zh": "没有找到这份申请草稿，请重新从数据库或链接解析器进入",
        "en": "no such request draft: follow the link from the database or link resolver again",
    },
    410: {
        "zh": "这份申请草稿已过期，请重新从数据库或链接解析器进入",
        "en": "this request draft has expired: follow the link from the database or link "
        "resolver again",
    },
}


def _rows(citation: Citation) -> list[dict[str, Any]]:
    """The fields the link gave, labelled in both languages."""
    rows = [{"label": FIELD_NAMES["genre"], "value": GENRE_NAMES[citation.genre]}]
    for name in BIBLIOGRAPHIC_FIELDS:
        value = getattr(citation, name)
        if value:
            shown = "; ".join(value) if isinstance(value, list) else str(value)
            rows.append({"label": FIELD_NAMES[name], "value": {"zh": shown, "en": shown}})
    return rows


def _bilingual(problem: Problem) -> dict[str, str]:
    return {"zh": problem.text("zh"), "en": problem.text("en")}


@router.get("/openurl", response_class=HTMLResponse)
async def openurl(request: Request) -> HTMLResponse:
    state: AppState = request.app.state.refdesk
    raw = request.url.query
    shown = unquote(raw.replace("+", " ")) if raw else ""
    if not raw.strip():
        result = OpenUrlResult(Citation(), kind="openurl", problems=[_NO_QUERY], rejected=True)
    else:
        result = parse_openurl("?" + raw)
    missing = [] if result.rejected else result.citation.missing()
    token = None
    if not result.rejected:
        language = languages_of(request)[0]

        def save(session: Session) -> str:
            draft = drafts.save_draft(session, result, raw, language=language, now=utcnow())
            return drafts.token_for(draft)

        token = await state.db.run(save)
    status = 400 if result.rejected or missing else 200
    return render(
        request,
        "openurl.html",
        status,
        {
            "rejected": result.rejected,
            "version": result.version,
            "rows": [] if result.rejected else _rows(result.citation),
            "missing": [FIELD_NAMES.get(m, {"zh": m, "en": m}) for m in missing],
            "problems": [_bilingual(p) for p in result.problems],
            "chat_url": f"/chat?draft={token}" if token else "/chat",
            "has_draft": token is not None,
            "sent": shown,
        },
    )


@router.get("/api/delivery/drafts/{token}")
async def get_draft(request: Request, token: str) -> JSONResponse:
    """The draft an OpenURL page handed to the chat (no login: the token is the key)."""
    state: AppState = request.app.state.refdesk

    def load(session: Session) -> dict[str, Any]:
        draft = drafts.load_draft(session, token, utcnow())
        return {
            "citation": draft.citation,
            "missing": draft.missing,
            "missing_names": [FIELD_NAMES.get(m, {"zh": m, "en": m}) for m in draft.missing],
            "problems": draft.problems,
            "openurl_version": draft.openurl_version,
            "referrer": draft.referrer,
            "openurl": draft.raw,
            "language": draft.language,
            "created_at": draft.created_at.isoformat(),
            "expires_at": draft.expires_at.isoformat(),
        }

    try:
        return JSONResponse(await state.db.run(load))
    except drafts.DraftRefused as refused:
        status = _DRAFT_REFUSED.get(refused.code, 404)
        return JSONResponse(
            {"error": refused.code, "message": _DRAFT_MESSAGES[status]}, status_code=status
        )
