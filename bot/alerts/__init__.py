"""The HTTP side of topical alerts and the alerts worker process.

- :mod:`~bot.alerts.pages` one-tap unsubscribe (RFC 8058) and tracked item links
- :mod:`~bot.alerts.api` the librarian API under ``/api/alerts/``
- :mod:`~bot.alerts.worker` the supervised worker: leader lease + APScheduler
"""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    from bot.alerts import api, pages

    app.include_router(pages.router)
    app.include_router(api.router)
