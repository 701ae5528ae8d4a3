"""Normalising why a renewal was refused.

SIP2 has no reason code for a refused renewal, only a screen message (AF) in
the ILS's own words. The patterns below cover the wording of Koha (C4::SIP
renewal errors), Evergreen (event text codes such as COPY_NEEDED_FOR_HOLD),
FOLIO edge-sip2 and common Chinese ILS phrasing; the patron status flags
decide when the words do not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from kb.ils.sip2.results import RefusalReason
from kb.ils.sip2.spec import PatronFlag

# Checked in this order: "no such item" beats everything, a hold beats a limit.
_PATTERNS: tuple[tuple[RefusalReason, re.Pattern[str]], ...] = (
    (
        RefusalReason.ITEM_NOT_FOUND,
        re.compile(
            r"not found|invalid item|unknown item|no such item|not checked out|not on loan"
            r"|issued to other|checked out to (another|other)|no (current )?loan"
            r"|ASSET_COPY_NOT_FOUND|ACTOR_CIRCULATION_NOT_FOUND|找不到|不存在|未借",
            re.IGNORECASE,
        ),
    ),
    (
        RefusalReason.ON_HOLD,
        re.compile(
            r"hold|reserv|recall|requested by|request(ed)? for (another|other)"
            r"|on_reserve|COPY_NEEDED_FOR_HOLD|预约|预留|被预",
            re.IGNORECASE,
        ),
    ),
    (
        RefusalReason.LIMIT_REACHED,
        re.compile(
            r"max(imum)?[ _-]*(number of |consecutive )?renew|renewal limit|too_many|too_unseen"
            r"|too many renewals|no (more )?renewals (left|remaining)|renewals? exhausted"
            r"|loan at maximum|MAX_RENEWALS_REACHED|续借次数|续借.*(上限|最大)|不能再续",
            re.IGNORECASE,
        ),
    ),
    (
        RefusalReason.PATRON_BLOCKED,
        re.compile(
            r"block|barred|debarr|restrict|suspend|expired|privileges? denied|not allowed to renew"
            r"|excessive (fines|fees)|outstanding (fines|fees)|PATRON_EXCEEDS|PATRON_BARRED"
            r"|冻结|停借|暂停|欠款|欠费|过期|禁止",
            re.IGNORECASE,
        ),
    ),
)

# Patron status conditions that stop renewals on every ILS we know.
_BLOCKING_FLAGS = frozenset(
    {
        PatronFlag.RENEWAL_PRIVILEGES_DENIED,
        PatronFlag.CHARGE_PRIVILEGES_DENIED,
        PatronFlag.CARD_REPORTED_LOST,
        PatronFlag.EXCESSIVE_OUTSTANDING_FINES,
        PatronFlag.EXCESSIVE_OUTSTANDING_FEES,
        PatronFlag.TOO_MANY_ITEMS_OVERDUE,
        PatronFlag.TOO_MANY_ITEMS_LOST,
        PatronFlag.TOO_MANY_ITEMS_BILLED,
        PatronFlag.RECALL_OVERDUE,
    }
)


def refusal_reason(
    screen_messages: Iterable[str], patron_flags: frozenset[PatronFlag] = frozenset()
) -> RefusalReason:
    """The normalised reason for a refused renewal."""
    text = " ".join(screen_messages)
    for reason, pattern in _PATTERNS:
        if pattern.search(text):
            return reason
    if PatronFlag.TOO_MANY_RENEWALS in patron_flags:
        return RefusalReason.LIMIT_REACHED
    if patron_flags & _BLOCKING_FLAGS:
        return RefusalReason.PATRON_BLOCKED
    return RefusalReason.OTHER
