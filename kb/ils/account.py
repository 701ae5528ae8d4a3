"""The patron's library account in chat: verify once, then loans, holds, fines, renewals.

``verify`` checks the card and PIN with the ILS (SIP2 Patron Status) and opens
a short-lived session in memory; later calls take its opaque token and the
conversation id, and never need the PIN again. The PIN is used for that one
request and then dropped: it is not stored (in clear, encrypted or hashed),
not logged, not returned, not put in an exception. Wrong PINs are counted per
card and per conversation, and verification pauses after too many.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from kb.db import session_scope, utcnow
from kb.ils.events import Actor, locked_until, purge_events, record_event
from kb.ils.models import AccountAction, AccountOutcome
from kb.ils.sessions import PatronSessions, SessionExpired
from kb.ils.sip2.client import Sip2Client
from kb.ils.sip2.connection import Sip2Config
from kb.ils.sip2.errors import Sip2Error, Sip2OutcomeUnknown, Sip2Unsupported
from kb.ils.sip2.redact import Secret, get_logger
from kb.ils.sip2.results import PatronAccount, RenewAllResult, RenewResult
from kb.settings import Settings, get_settings

log = get_logger(__name__)

__all__ = ["AccountService", "SessionExpired", "Verification", "VerifyOutcome"]


class VerifyOutcome(StrEnum):
    VERIFIED = "verified"
    WRONG_PIN = "wrong_pin"
    UNKNOWN_PATRON = "unknown_patron"  # no such card at the ILS
    LOCKED_OUT = "locked_out"  # too many wrong tries; see retry_after


@dataclass(frozen=True)
class Verification:
    outcome: VerifyOutcome
    token: str | None = None  # opaque; pass it back with the same owner
    patron_name: str | None = None
    expires_at: datetime | None = None  # if unused until then
    retry_after: datetime | None = None  # when locked out

    @property
    def verified(self) -> bool:
        return self.outcome is VerifyOutcome.VERIFIED


def _sendable(value: str) -> bool:
    return bool(value) and not any(c in value for c in "|\r\n")


class AccountService:
    """One per process: it holds the sessions and the ILS connections. Close with :meth:`aclose`."""

    def __init__(
        self,
        client: Sip2Client,
        db_url: str,
        *,
        settings: Settings | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        s = settings or get_settings()
        self._client = client
        self._db_url = db_url
        self._clock = clock
        self._max_failures = s.ils_pin_max_failures
        self._lockout = timedelta(minutes=s.ils_pin_lockout_minutes)
        self._retention = timedelta(days=s.ils_event_retention_days)
        self.sessions = PatronSessions(
            idle=timedelta(minutes=s.ils_session_idle_minutes),
            max_age=timedelta(minutes=s.ils_session_max_minutes),
            clock=clock,
        )

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> AccountService:
        s = settings or get_settings()
        return cls(Sip2Client(Sip2Config.from_settings(s)), s.database_url, settings=s)

    async def aclose(self) -> None:
        await self._client.aclose()

    # --- audit trail ------------------------------------------------------------

    async def _record(
        self,
        actor: Actor,
        action: AccountAction,
        outcome: AccountOutcome,
        *,
        item_id: str | None = None,
        reason: str | None = None,
    ) -> None:
        at = self._clock()

        def write() -> None:
            with session_scope(self._db_url) as db:
                record_event(db, actor, action, outcome, at=at, item_id=item_id, reason=reason)

        await asyncio.to_thread(write)

    async def _locked_until(self, actor: Actor) -> datetime | None:
        now = self._clock()

        def read() -> datetime | None:
            with session_scope(self._db_url) as db:
                return locked_until(
                    db, actor, now=now, max_failures=self._max_failures, window=self._lockout
                )

        return await asyncio.to_thread(read)

    async def purge(self) -> int:
        """Drop audit events older than the retention period (run daily)."""
        cutoff = self._clock() - self._retention

        def run() -> int:
            with session_scope(self._db_url) as db:
                return purge_events(db, older_than=cutoff)

        return await asyncio.to_thread(run)

    # --- verification -------------------------------------------------------------

    async def verify(self, barcode: str, pin: str, *, owner: str) -> Verification:
        """Check card and PIN with the ILS; on success a session token for ``owner``."""
        barcode = barcode.strip()
        actor = Actor.of(barcode, owner)
        retry_after = await self._locked_until(actor)
        if retry_after is not None:
            await self._record(actor, AccountAction.VERIFY, AccountOutcome.LOCKED_OUT)
            return Verification(VerifyOutcome.LOCKED_OUT, retry_after=retry_after)
        if not _sendable(barcode):
            await self._record(actor, AccountAction.VERIFY, AccountOutcome.UNKNOWN_PATRON)
            return Verification(VerifyOutcome.UNKNOWN_PATRON)
        if not _sendable(pin):
            # SIP2 cannot carry it, so it cannot be the PIN; it still counts as a try.
            await self._record(actor, AccountAction.VERIFY, AccountOutcome.WRONG_PIN)
            return Verification(VerifyOutcome.WRONG_PIN)
        status = await self._client.patron_status(barcode, Secret(pin))
        if not status.valid_patron:
            await self._record(actor, AccountAction.VERIFY, AccountOutcome.UNKNOWN_PATRON)
            return Verification(VerifyOutcome.UNKNOWN_PATRON)
        if status.valid_pin is None:
            raise Sip2Unsupported(
                "the ILS does not say whether a PIN is valid (no CQ field in its 24 answer); "
                "refdesk cannot verify patrons with it"
            )
        if not status.valid_pin:
            await self._record(actor, AccountAction.VERIFY, AccountOutcome.WRONG_PIN)
            return Verification(VerifyOutcome.WRONG_PIN)
        token, session = self.sessions.open(
            owner=owner, barcode=barcode, name=status.name, blocks=status.blocks
        )
        await self._record(actor, AccountAction.VERIFY, AccountOutcome.OK)
        return Verification(
            VerifyOutcome.VERIFIED,
            token=token,
            patron_name=status.name,
            expires_at=self.sessions.expires_at(session),
        )

    # --- the verified patron's account ----------------------------------------------

    async def account(self, token: str, *, owner: str) -> PatronAccount:
        """Loans with due dates, holds ready for pickup, fines and blocks."""
        session = self.sessions.use(token, owner=owner)
        return await self._client.patron_account(session.barcode)

    async def renew(self, token: str, item_id: str, *, owner: str) -> RenewResult:
        session = self.sessions.use(token, owner=owner)
        actor = Actor.of(session.barcode, owner)
        try:
            result = await self._client.renew(session.barcode, item_id, blocks=session.blocks)
        except Sip2OutcomeUnknown:
            await self._record(actor, AccountAction.RENEW, AccountOutcome.UNKNOWN, item_id=item_id)
            raise
        await self._record_renewal(actor, AccountAction.RENEW, result)
        return result

    async def renew_all(self, token: str, *, owner: str) -> RenewAllResult:
        session = self.sessions.use(token, owner=owner)
        actor = Actor.of(session.barcode, owner)
        try:
            result = await self._client.renew_all(session.barcode, blocks=session.blocks)
        except Sip2OutcomeUnknown:
            await self._record(actor, AccountAction.RENEW_ALL, AccountOutcome.UNKNOWN)
            raise
        for item in result.items:
            await self._record_renewal(actor, AccountAction.RENEW_ALL, item)
        return result

    async def _record_renewal(
        self, actor: Actor, action: AccountAction, result: RenewResult
    ) -> None:
        outcome = AccountOutcome.OK if result.renewed else AccountOutcome.REFUSED
        reason = result.reason.value if result.reason else None
        await self._record(actor, action, outcome, item_id=result.item_id, reason=reason)

    async def end(self, token: str, *, owner: str) -> None:
        """The patron is done: forget the session and tell the ILS (best effort)."""
        session = self.sessions.close(token, owner=owner)
        if session is None:
            return
        await self._record(Actor.of(session.barcode, owner), AccountAction.END, AccountOutcome.OK)
        try:
            await self._client.end_session(session.barcode)
        except Sip2Error as exc:
            log.warning("could not tell the ILS that a patron session ended: %s", exc)
