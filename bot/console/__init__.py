"""The librarian console under /console: pages, JSON API, WebSocket.

- :mod:`~bot.console.auth` session cookie, CSRF, roles
- :mod:`~bot.console.pages` sign in, desk, FAQ, canned replies, metrics, search
- :mod:`~bot.console.alerts` announcements to topic audiences, alert figures
- :mod:`~bot.console.delivery` document delivery: the library's queue, a request, the report
- :mod:`~bot.console.feedback` patron feedback: list, read / handled with a note, CSV
- :mod:`~bot.console.admin` admins: staff accounts and service hours
- :mod:`~bot.console.audit_log` admins: the staff access log, read-only
- :mod:`~bot.console.api` the desk's JSON calls (claim, reply, transfer, close ...)
- :mod:`~bot.console.socket` live queue and chat lines
- :mod:`~bot.console.i18n` Chinese and English
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse

from bot.console import admin, alerts, api, audit_log, delivery, feedback, pages, socket
from bot.console.auth import NotSignedIn


def install(app: FastAPI) -> None:
    app.include_router(pages.router)
    app.include_router(alerts.router)
    app.include_router(delivery.router)
    app.include_router(feedback.router)
    app.include_router(admin.router)
    app.include_router(audit_log.router)
    app.include_router(api.router)
    app.include_router(socket.router)

    @app.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, exc: NotSignedIn) -> RedirectResponse:
        return RedirectResponse("/console/login", status_code=303)
