"""Typed answers from the ILS: what a patron's account holds and how renewals went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from kb.ils.sip2.spec import SUPPORTED_POSITION, PatronFlag


class RefusalReason(StrEnum):
    """Why the ILS would not renew an item, normalised across ILS vocabularies."""

    ON_HOLD = "on_hold"  # another patron has a hold or recall on it
    LIMIT_REACHED = "limit_reached"  # renewal limit for this loan reached
    PATRON_BLOCKED = "patron_blocked"  # the patron's account is blocked (fines, expiry, ...)
    ITEM_NOT_FOUND = "item_not_found"  # no such item, or not on loan to this patron
    OTHER = "other"


@dataclass(frozen=True)
class AcsStatus:
    """What the ILS said about itself (98) when refdesk connected."""

    online: bool
    renewal_allowed: bool  # ACS renewal policy: may this terminal renew?
    supported: str | None  # the BX field, if sent
    protocol_version: str
    institution_id: str | None
    library_name: str | None

    def supports(self, command: str) -> bool:
        position = SUPPORTED_POSITION.get(command)
        if self.supported is None or position is None or position >= len(self.supported):
            return True  # not told otherwise: try it
        return self.supported[position] == "Y"


@dataclass(frozen=True)
class PatronStatus:
    """The answer to "is this card valid and is this its PIN?" (23/24)."""

    patron_id: str
    valid_patron: bool
    valid_pin: bool | None  # None: the ILS did not say (CQ absent)
    name: str | None
    blocks: frozenset[PatronFlag]
    screen_messages: tuple[str, ...]


@dataclass(frozen=True)
class ItemInformation:
    """One item as the ILS describes it (17/18)."""

    item_id: str
    title: str | None
    circulation_status: str
    due: datetime | None
    due_text: str | None  # the ILS's own text, kept when it is not a date we can read
    hold_queue_length: int | None
    current_location: str | None
    pickup_location: str | None
    hold_pickup_by: datetime | None
    screen_messages: tuple[str, ...]


@dataclass(frozen=True)
class Loan:
    item_id: str
    title: str | None
    due: datetime | None
    due_text: str | None
    overdue: bool


@dataclass(frozen=True)
class HoldReady:
    """A hold waiting on the shelf for the patron."""

    item_id: str
    title: str | None
    pickup_location: str | None
    pickup_by: datetime | None


@dataclass(frozen=True)
class FineItem:
    description: str  # the ILS's text for the charge
    amount: Decimal | None  # read from that text when it carries one


@dataclass(frozen=True)
class Fines:
    total: Decimal | None
    currency: str | None  # ISO 4217 code (BH)
    items: tuple[FineItem, ...]


@dataclass(frozen=True)
class PatronAccount:
    patron_id: str
    name: str | None
    valid_patron: bool
    blocks: frozenset[PatronFlag]
    loans: tuple[Loan, ...]
    holds_ready: tuple[HoldReady, ...]
    fines: Fines
    screen_messages: tuple[str, ...]

    @property
    def blocked(self) -> bool:
        return bool(self.blocks)

    @property
    def overdue(self) -> tuple[Loan, ...]:
        return tuple(loan for loan in self.loans if loan.overdue)


@dataclass(frozen=True)
class RenewResult:
    item_id: str
    renewed: bool
    title: str | None = None
    due: datetime | None = None  # the new due date when renewed
    due_text: str | None = None
    reason: RefusalReason | None = None  # set when refused
    screen_message: str | None = None  # the ILS's own words
    # After Renew All the ILS gives no per-item reason: it was worked out from the item's state.
    reason_inferred: bool = False


@dataclass(frozen=True)
class RenewAllResult:
    renewed: tuple[RenewResult, ...]
    refused: tuple[RenewResult, ...]
    screen_message: str | None

    @property
    def items(self) -> tuple[RenewResult, ...]:
        return self.renewed + self.refused
