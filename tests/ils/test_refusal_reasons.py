"""Refused renewals in the words real ILSes use, normalised to one reason."""

from __future__ import annotations

import pytest

from kb.ils.sip2.reasons import refusal_reason
from kb.ils.sip2.results import RefusalReason
from kb.ils.sip2.spec import PatronFlag

R = RefusalReason


@pytest.mark.parametrize(
    ("screen_message", "reason"),
    [
        # Koha C4::SIP::ILS::Transaction::Renew
        ("Item unavailable due to outstanding holds", R.ON_HOLD),
        ("Item has reached maximum renewals", R.LIMIT_REACHED),
        ("Item has reached maximum consecutive renewals without being seen", R.LIMIT_REACHED),
        ("Item already issued to other borrower", R.ITEM_NOT_FOUND),
        # Evergreen event text codes
        ("COPY_NEEDED_FOR_HOLD", R.ON_HOLD),
        ("MAX_RENEWALS_REACHED", R.LIMIT_REACHED),
        ("PATRON_EXCEEDS_FINES", R.PATRON_BLOCKED),
        ("PATRON_BARRED", R.PATRON_BLOCKED),
        ("ASSET_COPY_NOT_FOUND", R.ITEM_NOT_FOUND),
        # FOLIO circulation messages relayed by edge-sip2
        ("items cannot be renewed when there is an active recall request", R.ON_HOLD),
        ("loan at maximum renewal number", R.LIMIT_REACHED),
        ("Patron blocked from renewing", R.PATRON_BLOCKED),
        # Chinese ILS wording
        ("该书已被其他读者预约，不能续借", R.ON_HOLD),
        ("续借次数已达上限", R.LIMIT_REACHED),
        ("读者证已冻结", R.PATRON_BLOCKED),
        ("条码不存在", R.ITEM_NOT_FOUND),
        # Something no pattern knows stays "other" (the screen message is kept for the patron).
        ("Please see a librarian", R.OTHER),
    ],
)
def test_wording(screen_message, reason):
    assert refusal_reason([screen_message]) is reason


def test_patron_flags_decide_when_the_words_do_not():
    assert refusal_reason([], frozenset({PatronFlag.RENEWAL_PRIVILEGES_DENIED})) is R.PATRON_BLOCKED
    assert refusal_reason(["Renewal failed"], frozenset({PatronFlag.TOO_MANY_RENEWALS})) is (
        R.LIMIT_REACHED
    )
    # A hold named in the message outranks a blocked account.
    assert (
        refusal_reason(
            ["Item unavailable due to outstanding holds"],
            frozenset({PatronFlag.EXCESSIVE_OUTSTANDING_FINES}),
        )
        is R.ON_HOLD
    )
    assert refusal_reason([]) is R.OTHER
