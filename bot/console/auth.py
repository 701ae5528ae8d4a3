"""Console sign-in state: the session cookie, CSRF checks, roles.

- The session cookie is HttpOnly, SameSite=Strict, Secure (unless switched off for
  plain-HTTP tests) and scoped to /console; the table keeps only its hash.
- Every POST needs the session's CSRF token, in the form field ``csrf`` or the
  ``X-CSRF-Token`` header; a POST whose Origin is another site is refused outright.
- The login form has its own double-submit token (cookie + field), so nobody can
  sign a librarian in to an account of theirs from another site.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import HTTPException, Request, Response
from sqlalchemy.orm import Session

from bot.state import AppState
from kb.console.logins import session_for
from kb.staff.models import StaffRole

SESSION_COOKIE = "rd_console"
LOGIN_CSRF_COOKIE = "rd_console_login"
PATH = "/console"


@dataclass(frozen=True)
class Librarian:
    id: int
    username: str
    display_name: str
    role: str
    csrf: str

    @property
    def admin(self) -> bool:
        return self.role == StaffRole.ADMIN.value


class NotSignedIn(Exception):
    """Pages redirect to the login page; the API answers 401."""


def _lookup(session: Session, token: str) -> Librarian | None:
    row = session_for(session, token)
    if row is None:
        return None
    m = row.staff
    return Librarian(m.id, m.username, m.display_name, m.role.value, row.csrf_token)


async def current(request: Request) -> Librarian | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    state: AppState = request.app.state.refdesk
    return await state.db.run(_lookup, token)


async def librarian(request: Request) -> Librarian:
    """Dependency: the signed-in librarian, else NotSignedIn."""
    who = await current(request)
    if who is None:
        raise NotSignedIn()
    return who


async def admin(request: Request) -> Librarian:
    who = await librarian(request)
    if not who.admin:
        raise HTTPException(403, "only an admin can do this")
    return who


def same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:  # not a browser, or a browser that sends no Origin on this request
        return True
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


def check_csrf(request: Request, supplied: str | None, expected: str) -> None:
    if not same_origin(request):
        raise HTTPException(403, "cross-site request refused")
    if not supplied or not hmac.compare_digest(supplied.encode(), expected.encode()):
        raise HTTPException(403, "missing or wrong CSRF token")


async def api_librarian(request: Request) -> Librarian:
    """Dependency for JSON API calls: signed in, and for POSTs the CSRF header."""
    who = await current(request)
    if who is None:
        raise HTTPException(401, "sign in to the console first")
    if request.method == "POST":
        check_csrf(request, request.headers.get("x-csrf-token"), who.csrf)
    return who


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    state: AppState = request.app.state.refdesk
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=state.settings.console_secure_cookies,
    )
