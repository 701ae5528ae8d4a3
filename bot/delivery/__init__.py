"""The HTTP side of document delivery.

- :mod:`~bot.delivery.auth` staff API keys (``Authorization: Bearer``) -> a staff member
- :mod:`~bot.delivery.errors` domain refusals -> clear 4xx answers; the audited call
- :mod:`~bot.delivery.views` requests as JSON for staff
- :mod:`~bot.delivery.desk_api` the librarian API under ``/api/delivery/``
- :mod:`~bot.delivery.metrics_api` the BALIS-shaped report as JSON or CSV
- :mod:`~bot.delivery.downloads` patrons download supplied copies
- :mod:`~bot.delivery.openurl_page` link resolvers land on ``/openurl``; drafts for the chat
- :mod:`~bot.delivery.pages` bilingual pages ordered by the browser's Accept-Language
"""

from __future__ import annotations

from fastapi import FastAPI

from bot.delivery import desk_api, downloads, errors, metrics_api, openurl_page


def install(app: FastAPI) -> None:
    errors.install_handlers(app)
    app.include_router(metrics_api.router)
    app.include_router(desk_api.router)
    app.include_router(downloads.router)
    app.include_router(openurl_page.router)
