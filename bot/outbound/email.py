"""The outbound worker's e-mail sender: replies to reference questions, delivery
notices and alerts for patrons with an e-mail address (``patrons.email``) and no
reachable chat channel, or for messages queued for ``email`` (alert subscribers who
chose e-mail). The message is built by ``kb.mail.build``: alerts come as plain text with
an HTML alternative, whose end carries the open-tracking image only for a patron who
consented to it (``kb.alerts.consent``).

SMTP has no idempotency key, so the sender is not idempotent: SENDING is committed
before the exchange, and a message whose exchange may have happened (a timeout or a
dropped connection after the envelope went out, a worker killed mid-exchange) becomes
UNCERTAIN and waits for staff rather than being sent twice.

| SMTP outcome | outbound state |
|---|---|
| accepted | sent (the Message-ID is kept) |
| cannot connect, 4xx (greylisting, mailbox busy) | retried with backoff |
| 5xx for the recipient or the message | dead, with the server's answer |
| timeout or disconnect mid-exchange | uncertain |
"""

from __future__ import annotations

import aiosmtplib

from bot.outbound import Outgoing, SendRejected, SendRetry, SendUncertain
from bot.outbound.render import with_links
from kb import mail
from kb.settings import Settings

CHANNEL = "email"


class EmailSender:
    channel = CHANNEL
    idempotent = False
    # A patron cannot answer an e-mail with a button or a number: buttons are left out.
    supports_buttons = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def live(self, address: str) -> bool:
        return False  # never preferred over a chat the patron can answer in

    async def send(self, message: Outgoing) -> str | None:
        body = {"text": with_links(message.text, message.links), "email": message.email or {}}
        email = mail.build(body, message.address, self.settings.smtp_from)
        try:
            await mail.send(self.settings, email)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            answers = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            if all(400 <= r.code < 500 for r in exc.recipients):  # greylisting, mailbox busy
                raise SendRetry(f"recipient deferred: {answers}") from exc
            raise SendRejected(f"recipient refused: {answers}") from exc
        except aiosmtplib.SMTPConnectError as exc:  # includes connect timeouts
            raise SendRetry(f"cannot connect: {exc}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 400 <= exc.code < 500:
                raise SendRetry(f"{exc.code} {exc.message}") from exc
            raise SendRejected(f"{exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPTimeoutError, aiosmtplib.SMTPServerDisconnected) as exc:
            raise SendUncertain(f"{type(exc).__name__}: {exc}") from exc
        except (ConnectionRefusedError, OSError) as exc:
            if isinstance(exc, aiosmtplib.SMTPException):
                raise SendUncertain(f"{type(exc).__name__}: {exc}") from exc
            raise SendRetry(f"cannot connect: {exc}") from exc
        return str(email["Message-ID"])[:100]

    async def close(self) -> None:
        return None
