"""The HTTP side of the patron services (issue 9).

- :mod:`~bot.services.ils` the gateway's hold on the patron's ILS account (PIN checks)
- :mod:`~bot.services.ils_api` ``/internal/ils/*`` for the action server
- :mod:`~bot.services.staff_api` purchase suggestions, subject librarians, feedback
"""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    # Imported here: bot.router imports bot.services.ils, and these import bot.state.
    from bot.services import ils_api, staff_api

    app.include_router(ils_api.router)
    app.include_router(staff_api.router)
