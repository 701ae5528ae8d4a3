"""The SIP2 client refdesk uses: patron status, account, item information, renewals.

Look-ups are retried once on a fresh connection when a pooled one turns out to
have dropped. A renewal is retried only if it certainly never reached the ILS;
if the line dropped after it was sent, the caller gets
:class:`Sip2OutcomeUnknown` instead of a second, unwanted renewal.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from kb.db import utcnow
from kb.ils.sip2.codec import Message, message
from kb.ils.sip2.connection import Sip2Config
from kb.ils.sip2.dates import parse_sip_datetime
from kb.ils.sip2.errors import Sip2ConnectionLost, Sip2OutcomeUnknown, Sip2Unsupported
from kb.ils.sip2.pool import Sip2Pool
from kb.ils.sip2.reasons import refusal_reason
from kb.ils.sip2.redact import Secret, get_logger
from kb.ils.sip2.results import (
    AcsStatus,
    FineItem,
    Fines,
    HoldReady,
    ItemInformation,
    Loan,
    PatronAccount,
    PatronStatus,
    RefusalReason,
    RenewAllResult,
    RenewResult,
)
from kb.ils.sip2.spec import F, PatronFlag, Summary, patron_flags

log = get_logger(__name__)

_BLANK_DATE = " " * 18
_NO_SUMMARY = " " * 10
_MONEY = re.compile(r"-?\d+(?:[.,]\d{1,2})")


def _money(text: str | None) -> Decimal | None:
    if not text:
        return None
    match = _MONEY.search(text) or re.search(r"-?\d+", text)
    if not match:
        return None
    try:
        return Decimal(match.group().replace(",", "."))
    except InvalidOperation:
        return None


# The 63 summary position -> (the list's field id, the 64 fixed field counting it).
_LISTS = {
    Summary.CHARGED_ITEMS: (F.CHARGED_ITEMS, "charged_items_count"),
    Summary.OVERDUE_ITEMS: (F.OVERDUE_ITEMS, "overdue_items_count"),
    Summary.HOLD_ITEMS: (F.HOLD_ITEMS, "hold_items_count"),
    Summary.FINE_ITEMS: (F.FINE_ITEMS, "fine_items_count"),
}


def _count(text: str) -> int:
    return int(text) if text.strip().isdecimal() else 0


class Sip2Client:
    """Async SIP2 client over a pool of logged-in connections. Close with :meth:`aclose`."""

    def __init__(self, config: Sip2Config) -> None:
        self.config = config
        self._pool = Sip2Pool(config)

    async def aclose(self) -> None:
        await self._pool.aclose()

    async def _call(self, request: Message, *, idempotent: bool = True) -> Message:
        for attempt in (0, 1):
            async with self._pool.connection(fresh=attempt > 0) as conn:
                if not self._allowed(conn.status, request.command):
                    raise Sip2Unsupported(
                        f"the ILS does not accept message {request.command} from refdesk's "
                        "terminal (see its 98 status: supported messages / renewal policy)"
                    )
                try:
                    return await conn.exchange(request)
                except Sip2ConnectionLost as lost:
                    if lost.request_sent and not idempotent:
                        raise Sip2OutcomeUnknown(
                            f"{lost}; the renewal may or may not have been made"
                        ) from lost
                    if attempt:
                        raise
                    log.info("%s; reconnecting", lost)
        raise AssertionError("unreachable")

    @staticmethod
    def _allowed(status: AcsStatus | None, command: str) -> bool:
        if status is None:
            return True
        if command in ("29", "65") and not status.renewal_allowed:
            return False
        return status.supports(command)

    def _base(self) -> list[tuple[str, str | Secret | None]]:
        return [(F.INSTITUTION_ID, self.config.institution_id)]

    def _terminal(self) -> tuple[str, Secret | None]:
        return (F.TERMINAL_PASSWORD, self.config.terminal_password or None)

    def _dated(self, command: str, *fields: tuple[str, str | Secret | None]) -> Message:
        """A request whose only fixed field is the transaction date (17, 35, 65)."""
        return message(
            command,
            {"transaction_date": self.config.now()},
            [*self._base(), *fields, self._terminal()],
        )

    def _date(self, text: str | None) -> datetime | None:
        return parse_sip_datetime(text, self.config.timezone) if text else None

    # --- patrons ------------------------------------------------------------

    async def patron_status(self, patron_id: str, pin: Secret | None) -> PatronStatus:
        """Is this a valid patron, and (when ``pin`` is given) is this their PIN? (23/24)"""
        request = message(
            "23",
            {"language": "000", "transaction_date": self.config.now()},
            [
                *self._base(),
                (F.PATRON_ID, patron_id),
                self._terminal(),
                (F.PATRON_PASSWORD, pin),
            ],
        )
        response = await self._call(request)
        cq = response.first(F.VALID_PATRON_PASSWORD)
        return PatronStatus(
            patron_id=patron_id,
            valid_patron=response.first(F.VALID_PATRON) == "Y",
            valid_pin=None if cq is None else cq == "Y",
            name=response.first(F.PERSONAL_NAME),
            blocks=patron_flags(response.fixed["patron_status"]),
            screen_messages=tuple(response.all(F.SCREEN_MESSAGE)),
        )

    async def _patron_information(
        self, patron_id: str, summary: Summary | None, end: int = 0
    ) -> Message:
        # The PIN is not sent: refdesk checked it once with 23 and acts as a trusted terminal.
        request = message(
            "63",
            {
                "language": "000",
                "transaction_date": self.config.now(),
                "summary": summary.field() if summary is not None else _NO_SUMMARY,
            },
            [
                *self._base(),
                (F.PATRON_ID, patron_id),
                self._terminal(),
                (F.START_ITEM, "1" if end else None),
                (F.END_ITEM, str(end) if end else None),
            ],
        )
        return await self._call(request)

    async def _item_list(self, patron_id: str, overview: Message, summary: Summary) -> list[str]:
        field_id, count_field = _LISTS[summary]
        count = _count(overview.fixed[count_field])
        if count <= 0:
            return []
        response = await self._patron_information(patron_id, summary, end=count)
        return response.all(field_id)

    async def patron_account(self, patron_id: str) -> PatronAccount:
        """Loans with due dates, holds ready for pickup, fines and blocks (63/64 + 17/18)."""
        overview = await self._patron_information(patron_id, None)
        charged = await self._item_list(patron_id, overview, Summary.CHARGED_ITEMS)
        overdue = set(await self._item_list(patron_id, overview, Summary.OVERDUE_ITEMS))
        held = await self._item_list(patron_id, overview, Summary.HOLD_ITEMS)
        fine_texts = await self._item_list(patron_id, overview, Summary.FINE_ITEMS)
        now = utcnow()
        loans = []
        for item_id in charged:
            info = await self.item_information(item_id)
            loans.append(
                Loan(
                    item_id=item_id,
                    title=info.title,
                    due=info.due,
                    due_text=info.due_text,
                    overdue=item_id in overdue or (info.due is not None and info.due < now),
                )
            )
        holds = []
        for item_id in held:
            info = await self.item_information(item_id)
            holds.append(
                HoldReady(
                    item_id=item_id,
                    title=info.title,
                    pickup_location=info.pickup_location or info.current_location,
                    pickup_by=info.hold_pickup_by,
                )
            )
        return PatronAccount(
            patron_id=patron_id,
            name=overview.first(F.PERSONAL_NAME),
            valid_patron=overview.first(F.VALID_PATRON) != "N",
            blocks=patron_flags(overview.fixed["patron_status"]),
            loans=tuple(loans),
            holds_ready=tuple(holds),
            fines=Fines(
                total=_money(overview.first(F.FEE_AMOUNT)),
                currency=overview.first(F.CURRENCY),
                items=tuple(FineItem(text, _money(text)) for text in fine_texts),
            ),
            screen_messages=tuple(overview.all(F.SCREEN_MESSAGE)),
        )

    async def end_session(self, patron_id: str) -> bool:
        """Tell the ILS the patron's session is over (35/36)."""
        response = await self._call(self._dated("35", (F.PATRON_ID, patron_id)))
        return response.fixed["end_session"] == "Y"

    # --- items --------------------------------------------------------------

    async def item_information(self, item_id: str) -> ItemInformation:
        response = await self._call(self._dated("17", (F.ITEM_ID, item_id)))
        due_text = response.first(F.DUE_DATE) or None
        queue = response.first(F.HOLD_QUEUE_LENGTH)
        return ItemInformation(
            item_id=item_id,
            title=response.first(F.TITLE) or None,
            circulation_status=response.fixed["circulation_status"],
            due=self._date(due_text),
            due_text=due_text,
            hold_queue_length=int(queue) if queue and queue.strip().isdecimal() else None,
            current_location=response.first(F.CURRENT_LOCATION) or None,
            pickup_location=response.first(F.PICKUP_LOCATION) or None,
            hold_pickup_by=self._date(response.first(F.HOLD_PICKUP_DATE)),
            screen_messages=tuple(response.all(F.SCREEN_MESSAGE)),
        )

    # --- renewals -----------------------------------------------------------

    async def renew(
        self, patron_id: str, item_id: str, *, blocks: frozenset[PatronFlag] = frozenset()
    ) -> RenewResult:
        """Renew one loan (29/30). ``blocks``: the patron's status flags, to explain a refusal."""
        request = message(
            "29",
            {
                "third_party_allowed": "N",
                "no_block": "N",
                "transaction_date": self.config.now(),
                "nb_due_date": _BLANK_DATE,
            },
            [
                *self._base(),
                (F.PATRON_ID, patron_id),
                (F.ITEM_ID, item_id),
                self._terminal(),
                # A renewal that costs money needs the patron's explicit consent first.
                (F.FEE_ACKNOWLEDGED, "N"),
            ],
        )
        response = await self._call(request, idempotent=False)
        screen = " ".join(response.all(F.SCREEN_MESSAGE)) or None
        title = response.first(F.TITLE) or None
        if response.fixed["ok"] == "1":
            due_text = response.first(F.DUE_DATE) or None
            return RenewResult(
                item_id=item_id,
                renewed=True,
                title=title,
                due=self._date(due_text),
                due_text=due_text,
                screen_message=screen,
            )
        return RenewResult(
            item_id=item_id,
            renewed=False,
            title=title,
            reason=refusal_reason(response.all(F.SCREEN_MESSAGE), blocks),
            screen_message=screen,
        )

    async def renew_all(
        self, patron_id: str, *, blocks: frozenset[PatronFlag] = frozenset()
    ) -> RenewAllResult:
        """Renew every loan (65/66); each item's new due date or likely reason is looked up."""
        request = self._dated("65", (F.PATRON_ID, patron_id), (F.FEE_ACKNOWLEDGED, "N"))
        response = await self._call(request, idempotent=False)
        screen_messages = response.all(F.SCREEN_MESSAGE)
        renewed = []
        for item_id in response.all(F.RENEWED_ITEMS):
            info = await self.item_information(item_id)
            renewed.append(
                RenewResult(
                    item_id=item_id,
                    renewed=True,
                    title=info.title,
                    due=info.due,
                    due_text=info.due_text,
                )
            )
        refused = []
        for item_id in response.all(F.UNRENEWED_ITEMS):
            info = await self.item_information(item_id)
            refused.append(
                RenewResult(
                    item_id=item_id,
                    renewed=False,
                    title=info.title,
                    reason=self._inferred_reason(info, screen_messages, blocks),
                    screen_message=" ".join(info.screen_messages) or None,
                    reason_inferred=True,
                )
            )
        return RenewAllResult(
            renewed=tuple(renewed),
            refused=tuple(refused),
            screen_message=" ".join(screen_messages) or None,
        )

    @staticmethod
    def _inferred_reason(
        info: ItemInformation, screen_messages: list[str], blocks: frozenset[PatronFlag]
    ) -> RefusalReason:
        # 66 names refused items but not why; the item's own state is the best evidence.
        if info.hold_queue_length:
            return RefusalReason.ON_HOLD
        if info.title is None and info.circulation_status in ("01", "13"):
            return RefusalReason.ITEM_NOT_FOUND  # "other" / "lost": the ILS does not know it
        return refusal_reason([*info.screen_messages, *screen_messages], blocks)
