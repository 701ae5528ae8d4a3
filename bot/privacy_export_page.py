"""The patron's data-export link: ``GET /privacy/export/{token}`` downloads their data once.

A token we did not issue (garbled, changed) is 404; a genuine one that expired is 410,
and so is one already used or whose patron was forgotten since: a clear page in both
languages saying how to get a new link, never data.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from bot.delivery.pages import message_page
from bot.state import AppState
from kb.alerts import tokens
from kb.privacy import export

router = APIRouter(include_in_schema=False)

_ASK_AGAIN = {
    "zh": "如需新的链接，请在对话里发送“我的个人数据”。",
    "en": 'For a new link, send "export my data" in the chat.',
}
_INVALID = (
    {"zh": "链接无效", "en": "This link is not valid"},
    {
        "zh": "这个下载链接不完整或被改动过。" + _ASK_AGAIN["zh"],
        "en": "This download link is incomplete or was changed. " + _ASK_AGAIN["en"],
    },
)
_EXPIRED = (
    {"zh": "链接已过期", "en": "This link has expired"},
    {
        "zh": "这个下载链接已过期。" + _ASK_AGAIN["zh"],
        "en": "This download link has expired. " + _ASK_AGAIN["en"],
    },
)
_USED = (
    {"zh": "链接已使用", "en": "This link was used already"},
    {
        "zh": "为保护您的数据，每个下载链接只能使用一次。" + _ASK_AGAIN["zh"],
        "en": "To protect your data, each download link works only once. " + _ASK_AGAIN["en"],
    },
)


@router.get("/privacy/export/{token}", response_model=None)
async def download(request: Request, token: str) -> Response | HTMLResponse:
    state: AppState = request.app.state.refdesk
    try:
        data = await state.db.run(export.redeem, token)
    except tokens.TokenExpired:
        return message_page(request, 410, *_EXPIRED)
    except export.ExportGone:
        return message_page(request, 410, *_USED)
    except tokens.TokenInvalid:
        return message_page(request, 404, *_INVALID)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(
        body,
        media_type="application/json; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="my-library-data.json"',
            "Cache-Control": "no-store",
        },
    )


def install(app: FastAPI) -> None:
    app.include_router(router)
