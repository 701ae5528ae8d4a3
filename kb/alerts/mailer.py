"""E-mail alerts: outbound messages queued for the "email" channel are sent over SMTP
(aiosmtplib, ``REFDESK_SMTP_*``) with ``List-Unsubscribe`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058), so mail clients
show an unsubscribe button that works with one POST.

The outbound worker leaves messages for channels it has no sender for; this module is
the e-mail sender, run by the alerts worker. Same states as the outbound queue:
SENDING is committed before the SMTP exchange; a message whose exchange may have
happened before a crash is left UNCERTAIN rather than sent twice.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import aiosmtplib
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.db import session_scope, utcnow
from kb.outbound.models import OutboundMessage, OutboundStatus
from kb.patrons.models import Patron
from kb.settings import Settings

log = logging.getLogger(__name__)
CHANNEL = "email"
MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=5)


def build(body: dict[str, Any], to: str, sender: str) -> EmailMessage:
    email = body.get("email") or {}
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = email.get("subject") or body.get("text", "").splitlines()[0][:200]
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (email.get("headers") or {}).items():
        message[name] = value
    message.set_content(body.get("text", ""))
    return message


async def send(settings: Settings, message: EmailMessage) -> None:
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username or None,
        password=settings.smtp_password.get_secret_value() or None,
        start_tls=settings.smtp_starttls and not settings.smtp_tls,
        use_tls=settings.smtp_tls,
        timeout=settings.smtp_timeout_seconds,
    )


def _claim(session: Session, limit: int) -> list[tuple[str, dict[str, Any], str | None]]:
    now = utcnow()
    rows = session.scalars(
        select(OutboundMessage)
        .where(
            OutboundMessage.channel == CHANNEL,
            OutboundMessage.status == OutboundStatus.QUEUED,
            OutboundMessage.not_before <= now,
        )
        .order_by(OutboundMessage.not_before)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claimed: list[tuple[str, dict[str, Any], str | None]] = []
    for row in rows:
        patron = session.get(Patron, row.patron_id)
        address = patron.email if patron is not None else None
        if not address:
            row.status = OutboundStatus.DEAD
            row.last_error = "email: the patron has no e-mail address"
            continue
        row.status = OutboundStatus.SENDING
        row.lease_until = now + LEASE
        row.attempts += 1
        row.sent_channel = CHANNEL
        claimed.append((row.id, json.loads(row.body), address))
    return claimed


def _finish(session: Session, message_id: str, error: str | None, message_key: str | None) -> None:
    row = session.get(OutboundMessage, message_id)
    if row is None:
        return
    if error is None:
        row.status = OutboundStatus.SENT
        row.sent_at = utcnow()
        row.channel_message_id = (message_key or "")[:100] or None
        row.last_error = None
        return
    row.last_error = f"email: {error}"[:1000]
    if row.attempts >= MAX_ATTEMPTS:
        row.status = OutboundStatus.DEAD
    else:
        row.status = OutboundStatus.QUEUED
        row.not_before = utcnow() + timedelta(minutes=2**row.attempts)


def recover(session: Session) -> int:
    """Messages left SENDING by a crashed sender whose lease ran out: the SMTP server
    may have accepted them, so they become UNCERTAIN (staff see them), never resent."""
    rows = session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.channel == CHANNEL,
            OutboundMessage.status == OutboundStatus.SENDING,
            OutboundMessage.lease_until < utcnow(),
        )
    ).all()
    for row in rows:
        row.status = OutboundStatus.UNCERTAIN
        row.last_error = "email: the sender stopped during the SMTP exchange"
    return len(rows)


async def deliver_queued(settings: Settings, *, limit: int = 50) -> int:
    """Send the due e-mail alerts; returns how many were accepted by the server."""
    if not settings.smtp_host or not settings.smtp_from:
        return 0
    with session_scope(settings.database_url) as session:
        recover(session)
        claimed = _claim(session, limit)
    sent = 0
    for message_id, body, address in claimed:
        email = build(body, str(address), settings.smtp_from)
        error = None
        try:
            await send(settings, email)
            sent += 1
        except (aiosmtplib.SMTPException, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning("alerts: e-mail %s not sent: %s", message_id, error)
        with session_scope(settings.database_url) as session:
            _finish(session, message_id, error, email["Message-ID"])
    return sent
