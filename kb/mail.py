"""Building and sending one e-mail (aiosmtplib, ``REFDESK_SMTP_*``).

A queued message's body may carry ``{"email": {"subject": ..., "headers": {...}}}``:
alerts put ``List-Unsubscribe`` and ``List-Unsubscribe-Post:
List-Unsubscribe=One-Click`` (RFC 8058) there, so mail clients show an unsubscribe
button that works with one POST. ``"html": true`` adds an HTML alternative of the
text (links clickable); ``"open_image"`` (alerts to a patron who consented to open
tracking, nobody else) puts that 1x1 image at its end. The outbound worker's e-mail sender
(``bot/outbound/email.py``) is the only place that sends.
"""

from __future__ import annotations

import html
import re
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
    if email.get("html") or email.get("open_image"):
        message.add_alternative(as_html(body.get("text", ""), email.get("open_image")), "html")
    return message


_URL = re.compile(r"https?://[^\s<>\"]+")


def as_html(text: str, open_image: str | None = None) -> str:
    """The plain text as an HTML part: escaped, line breaks kept, links clickable, and
    the tracking image (when given) last."""
    parts: list[str] = []
    last = 0
    for found in _URL.finditer(text):
        parts.append(html.escape(text[last : found.start()]))
        url = html.escape(found.group(), quote=True)
        parts.append(f'<a href="{url}">{url}</a>')
        last = found.end()
    parts.append(html.escape(text[last:]))
    body = "".join(parts).replace("\n", "<br>\n")
    image = (
        f'<img src="{html.escape(open_image, quote=True)}" width="1" height="1" alt="" '
        'style="display:block;border:0;width:1px;height:1px">'
        if open_image
        else ""
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        f'<body><div style="font-family:sans-serif;line-height:1.5">{body}</div>{image}</body></html>'
    )


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
