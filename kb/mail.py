"""Building and sending one e-mail (aiosmtplib, ``REFDESK_SMTP_*``).

A queued message's body may carry ``{"email": {"subject": ..., "headers": {...}}}``:
alerts put ``List-Unsubscribe`` and ``List-Unsubscribe-Post:
List-Unsubscribe=One-Click`` (RFC 8058) there, so mail clients show an unsubscribe
button that works with one POST. The outbound worker's e-mail sender
(``bot/outbound/email.py``) is the only place that sends.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import aiosmtplib

from kb.settings import Settings


def configured(settings: Settings) -> bool:
    return bool(settings.smtp_host and settings.smtp_from)


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
