"""The way onto a patron's privacy page: a one-time link, then a short page session.

The link is sent in the patron's own chat (the web widget's Privacy button, or the
privacy command on Telegram and WeChat). Its token is authenticated and expiring
(kb.alerts.tokens, like the export link) and names a :class:`PageLink` row, which
makes it single-use. Opening it starts a page session: a sealed token in an HttpOnly
cookie, with a CSRF token derived from it for the page's forms.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from kb.alerts import tokens
from kb.crypto import keyring
from kb.db import utcnow
from kb.privacy.models import PageLink

LINK_PURPOSE = "privacy-page-link"
SESSION_PURPOSE = "privacy-page-session"
SESSION_HOURS = 1


class LinkUsed(LookupError):
    """The link was opened once already, or its patron was forgotten since."""


def issue(session: Session, patron_id: int, channel: str, *, minutes: int) -> str:
    """A new link token for the patron; their used and expired links are dropped."""
    now = utcnow()
    session.execute(
        delete(PageLink).where(
            PageLink.patron_id == patron_id,
            or_(PageLink.used_at.is_not(None), PageLink.expires_at < now),
        )
    )
    link = PageLink(
        patron_id=patron_id,
        channel=channel[:16],
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    session.add(link)
    session.flush()
    return tokens.make(LINK_PURPOSE, {"l": link.id}, days=minutes / 1440, now=now)


def redeem(session: Session, token: str, *, now: datetime | None = None) -> int:
    """The patron id of a valid, unused link, which is used up by this.

    Raises tokens.TokenInvalid (not ours), tokens.TokenExpired or :class:`LinkUsed`."""
    now = now or utcnow()
    data = tokens.read(token, LINK_PURPOSE, now=now)
    link = session.get(PageLink, int(data.get("l", 0)), with_for_update=True)
    if link is None or link.used_at is not None:
        raise LinkUsed("this link was used already")
    if link.expires_at < now:
        raise tokens.TokenExpired("the link has expired")
    link.used_at = now
    session.flush()
    return link.patron_id


@dataclass(frozen=True)
class PageSession:
    patron_id: int
    csrf: str


def start_session(patron_id: int) -> str:
    """The cookie value of a new page session (sealed: patrons cannot alter it)."""
    nonce = secrets.token_urlsafe(16)
    return tokens.make(SESSION_PURPOSE, {"patron": patron_id, "n": nonce}, days=SESSION_HOURS / 24)


def read_session(cookie: str) -> PageSession | None:
    """The page session of a cookie value, or None (missing, forged, expired)."""
    try:
        data = tokens.read(cookie, SESSION_PURPOSE)
    except (tokens.TokenInvalid, tokens.TokenExpired):
        return None
    csrf = keyring().blind_index(str(data.get("n", "")), "privacy-page-csrf")
    return PageSession(int(data.get("patron", 0)), csrf)
