"""The patron's privacy page: each purpose with its state and since when, switches to
grant or withdraw, and the ways to export or erase their data.

``GET /privacy/me/{token}`` opens a one-time link from the patron's chat
(kb.privacy.page_links) and starts a page session (HttpOnly, SameSite=Strict cookie
on /privacy/me, one hour); every POST needs the session's CSRF token and a same-site
Origin. Export and erasure reuse the chat's flows: the export download link
(bot.privacy_export_page) and kb.privacy.forget with the engine's trackers deleted too.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.console.auth import check_csrf
from bot.db import RETRY_AFTER_SECONDS, StorageUnavailable
from bot.delivery.pages import languages_of, message_page, render
from bot.state import AppState
from kb import engine_tracker
from kb.alerts import tokens
from kb.patrons.models import Patron
from kb.privacy import choices, export, forget, page_links

router = APIRouter(include_in_schema=False)

PATH = "/privacy/me"
COOKIE = "rd_privacy"
SOURCE = "privacy-page"

_ASK = {
    "zh": "请在对话中发送“隐私设置”获取新的链接（网页咨询里也可以点“隐私”）。",
    "en": 'Send "privacy settings" in the chat for a new link (or click "Privacy" in the web chat).',
}
_INVALID = (
    {"zh": "链接无效", "en": "This link is not valid"},
    {
        "zh": "这个链接不完整或被改动过。" + _ASK["zh"],
        "en": "This link is incomplete or was changed. " + _ASK["en"],
    },
)
_EXPIRED = (
    {"zh": "链接已过期", "en": "This link has expired"},
    {"zh": "这个链接已过期。" + _ASK["zh"], "en": "This link has expired. " + _ASK["en"]},
)
_USED = (
    {"zh": "链接已使用", "en": "This link was used already"},
    {
        "zh": "为保护您的隐私，每个链接只能打开一次。" + _ASK["zh"],
        "en": "To protect your privacy, each link opens once only. " + _ASK["en"],
    },
)
_NO_SESSION = (
    {"zh": "请从对话中打开", "en": "Please open this from the chat"},
    {
        "zh": "这个页面只对本人开放，需要从对话中的链接打开，一小时内有效。" + _ASK["zh"],
        "en": "This page is for you alone: open it from the link in your chat; it stays open "
        "for an hour. " + _ASK["en"],
    },
)
_REFUSED = (
    {"zh": "请求被拒绝", "en": "Request refused"},
    {
        "zh": "这个请求不是从您的隐私设置页面发出的，什么都没有改变。请重新打开页面再试。",
        "en": "This request did not come from your privacy page, so nothing was changed. "
        "Open the page again and retry.",
    },
)
_ERASED = (
    {"zh": "已删除您的数据", "en": "Your data has been erased"},
    {
        "zh": "已删除您的联系方式、聊天记录、订阅、授权记录和关联账号。如果您再次留言，我们会把您当作新读者。",
        "en": "Your contact details, transcripts, subscriptions, consents and linked accounts "
        "were erased. If you write again, you will be a new patron to us.",
    },
)
_NOT_CONFIRMED = (
    {"zh": "没有删除任何数据", "en": "Nothing was erased"},
    {
        "zh": "要删除数据，请先勾选“我明白此操作无法撤销”。",
        "en": 'To erase your data, first tick "I understand this cannot be undone".',
    },
)
_BUSY = (
    {"zh": "请稍后再试", "en": "Please try again shortly"},
    {
        "zh": f"系统的数据库暂时不可用，什么都没有改变。请在 {RETRY_AFTER_SECONDS} 秒后重试。",
        "en": f"Our database is briefly unavailable and nothing was changed. Please try again "
        f"in {RETRY_AFTER_SECONDS} s.",
    },
)


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.refdesk
    return state


def _session(request: Request) -> page_links.PageSession | None:
    return page_links.read_session(request.cookies.get(COOKIE, ""))


def _no_session(request: Request) -> HTMLResponse:
    response = message_page(request, 401, *_NO_SESSION)
    response.delete_cookie(COOKIE, path=PATH)
    return response


def _page_data(session: Any, patron_id: int) -> list[choices.Choice] | None:
    if session.get(Patron, patron_id) is None:
        return None  # forgotten since the page session began
    return choices.choices(session, patron_id)


@router.get(PATH + "/{token}", response_model=None)
async def open_link(request: Request, token: str) -> Response:
    try:
        patron_id = await _state(request).db.run(page_links.redeem, token)
    except tokens.TokenExpired:
        return message_page(request, 410, *_EXPIRED)
    except page_links.LinkUsed:
        return message_page(request, 410, *_USED)
    except tokens.TokenInvalid:
        return message_page(request, 404, *_INVALID)
    # The token leaves the address bar (and the history) at once.
    response = RedirectResponse(PATH, status_code=303)
    response.set_cookie(
        COOKIE,
        page_links.start_session(patron_id),
        max_age=page_links.SESSION_HOURS * 3600,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=_state(request).settings.console_secure_cookies,
    )
    return response


@router.get(PATH, response_model=None)
async def page(request: Request) -> Response:
    who = _session(request)
    if who is None:
        return _no_session(request)
    found = await _state(request).db.run(_page_data, who.patron_id)
    if found is None:
        return _no_session(request)
    response = render(
        request,
        "privacy_me.html",
        200,
        {"choices": found, "purposes": choices.PURPOSES, "csrf": who.csrf},
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _checked(request: Request, csrf: str) -> page_links.PageSession | Response:
    """The page session of a POST that passed the Origin and CSRF checks, else the page
    to answer with (401 without a session, 403 for a forged or cross-site request)."""
    who = _session(request)
    if who is None:
        return _no_session(request)
    try:
        check_csrf(request, csrf, who.csrf)
    except HTTPException:
        return message_page(request, 403, *_REFUSED)
    return who


@router.post(PATH + "/consent", response_model=None)
async def change(
    request: Request,
    purpose: str = Form(""),
    granted: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    who = _checked(request, csrf)  # before the fields: strangers learn nothing
    if isinstance(who, Response):
        return who
    if purpose not in choices.SWITCHABLE or granted not in ("yes", "no"):
        return message_page(
            request,
            400,
            {"zh": "无法更改", "en": "This cannot be changed"},
            {"zh": "这一项不能在这里更改。", "en": "This item cannot be switched here."},
        )
    language = languages_of(request)[0]  # the wording they read first is recorded

    def apply(session: Any) -> bool:
        if session.get(Patron, who.patron_id) is None:
            return False
        choices.change(
            session, who.patron_id, purpose, granted == "yes", source=SOURCE, language=language
        )
        return True

    try:
        if not await _state(request).db.run(apply):
            return _no_session(request)
    except StorageUnavailable:
        return _busy(request)
    return RedirectResponse(PATH, status_code=303)


@router.post(PATH + "/export", response_model=None)
async def export_data(request: Request, csrf: str = Form("")) -> Response:
    who = _checked(request, csrf)
    if isinstance(who, Response):
        return who
    hours = _state(request).settings.privacy_export_hours

    def issue(session: Any) -> str | None:
        if session.get(Patron, who.patron_id) is None:
            return None
        return export.issue(session, who.patron_id, SOURCE, hours=hours)[1]

    try:
        token = await _state(request).db.run(issue)
    except StorageUnavailable:
        return _busy(request)
    if token is None:
        return _no_session(request)
    return RedirectResponse(f"/privacy/export/{token}", status_code=303)


@router.post(PATH + "/forget", response_model=None)
async def forget_me(
    request: Request,
    csrf: str = Form(""),
    confirm: str = Form(""),
) -> Response:
    who = _checked(request, csrf)
    if isinstance(who, Response):
        return who
    if confirm != "yes":
        return message_page(request, 400, *_NOT_CONFIRMED)
    state = _state(request)
    try:
        done = await state.db.run(forget.forget_patron, who.patron_id, source=SOURCE)
    except StorageUnavailable:
        return _busy(request)
    # The engine's copies of the patron's conversations go too, as in the chat.
    await asyncio.to_thread(
        engine_tracker.delete_conversations, state.settings.tracker_store_url, done.sender_ids
    )
    response = message_page(request, 200, *_ERASED)
    response.delete_cookie(COOKIE, path=PATH)
    return response


def _busy(request: Request) -> HTMLResponse:
    response = message_page(request, 503, *_BUSY)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def install(app: FastAPI) -> None:
    app.include_router(router)
