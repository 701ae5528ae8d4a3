"""Patrons download supplied copies with the expiring link they were sent.

A changed or made-up token is 404 (nothing is there), an expired link or a
purged file 410 (it was there, and is gone for good), each with a bilingual
page saying what to do: ask for the link again while the request is open.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy.orm import Session

from bot.delivery.pages import message_page
from bot.state import AppState
from kb.db import utcnow
from kb.delivery import files

router = APIRouter()

_NOT_FOUND = (
    404,
    {"zh": "没有找到这个文件", "en": "No such file"},
    {
        "zh": "下载链接不完整或有误。请从通知消息中完整复制链接，或联系馆员。",
        "en": "The download link is incomplete or wrong. Copy the whole link from your "
        "notice, or ask a librarian.",
    },
)
_GONE = (
    410,
    {"zh": "下载链接已过期", "en": "This download link has expired"},
    {
        "zh": "复制件只在有限期内提供下载，现已过期。如仍需要，请联系馆员重新提供。",
        "en": "Supplied copies can only be downloaded for a limited time, and this one's has "
        "passed. If you still need it, ask a librarian to supply it again.",
    },
)
_REFUSALS = {"malformed": _NOT_FOUND, "bad_signature": _NOT_FOUND, "expired": _GONE, "gone": _GONE}


@router.get(files.DOWNLOAD_PATH + "{token}", response_model=None)
async def download(request: Request, token: str) -> FileResponse | HTMLResponse:
    state: AppState = request.app.state.refdesk

    def resolve(session: Session) -> files.Download:
        return files.resolve_download(session, token, utcnow())

    try:
        found = await state.db.run(resolve)
    except files.DownloadRefused as refused:
        status, title, body = _REFUSALS.get(refused.code, _NOT_FOUND)
        page = message_page(request, status, title, body)
        page.headers["Cache-Control"] = "no-store"
        return page
    return FileResponse(
        found.path,
        media_type=found.content_type,
        filename=found.filename,
        headers={
            # The copy is for this patron only: no shared caches, no sniffing into HTML.
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
