"""The patron's ILS account, held by the gateway.

The gateway is where a PIN arrives, so it verifies it here (see
:mod:`kb.ils.prompts` and the router) and keeps the verified session: the
AccountService's session tokens live in this process's memory, keyed by the
conversation. The action server asks for the account and renewals through the
loopback-only internal API in :mod:`bot.services.ils_api`, naming the
conversation; it never sees a PIN or a token.
"""

from __future__ import annotations

import logging
from typing import Any

from kb.ils import AccountService, PatronAccount, RenewAllResult, RenewResult, SessionExpired
from kb.ils.sip2.errors import Sip2Error
from kb.settings import Settings

log = logging.getLogger("refdesk.ils")

# What the engine hears after a PIN (the `ils_login` entity).
VERIFIED = "verified"
UNAVAILABLE = "unavailable"
CANCELLED = "cancelled"


class NotConnected(Exception):
    """No ILS is configured (REFDESK_ILS_SIP2_HOST is empty)."""


class NotVerified(Exception):
    """This conversation has no live verified session: ask for the PIN."""


class IlsDesk:
    def __init__(self, settings: Settings, service: AccountService | None = None) -> None:
        self.settings = settings
        self.service = service
        if self.service is None and settings.ils_sip2_host:
            self.service = AccountService.from_settings(settings)
        self._tokens: dict[str, str] = {}  # conversation (sender id) -> session token

    @property
    def connected(self) -> bool:
        return self.service is not None

    async def close(self) -> None:
        if self.service is not None:
            await self.service.aclose()

    async def verify(self, sender: str, barcode: str, pin: str) -> str:
        """Check the PIN; returns what the engine may hear: verified / wrong_pin / ..."""
        if self.service is None:
            return UNAVAILABLE
        try:
            result = await self.service.verify(barcode, pin, owner=sender)
        except Sip2Error as exc:
            # The exception text never carries the PIN (kb.ils.sip2.redact).
            log.warning("PIN check failed for a conversation: %s", type(exc).__name__)
            return UNAVAILABLE
        if result.verified and result.token:
            self._tokens[sender] = result.token
        return result.outcome.value

    def _token(self, sender: str) -> str:
        if self.service is None:
            raise NotConnected()
        token = self._tokens.get(sender)
        if token is None:
            raise NotVerified()
        return token

    async def _use(self, sender: str, call: Any) -> Any:
        token = self._token(sender)
        try:
            return await call(token)
        except SessionExpired:
            self._tokens.pop(sender, None)
            raise NotVerified() from None

    async def account(self, sender: str) -> PatronAccount:
        service = self.service
        return await self._use(sender, lambda t: service.account(t, owner=sender))  # type: ignore[union-attr]

    async def renew(self, sender: str, item_id: str) -> RenewResult:
        service = self.service
        return await self._use(sender, lambda t: service.renew(t, item_id, owner=sender))  # type: ignore[union-attr]

    async def renew_all(self, sender: str) -> RenewAllResult:
        service = self.service
        return await self._use(sender, lambda t: service.renew_all(t, owner=sender))  # type: ignore[union-attr]

    async def end(self, sender: str) -> bool:
        token = self._tokens.pop(sender, None)
        if token is None or self.service is None:
            return False
        await self.service.end(token, owner=sender)
        return True
