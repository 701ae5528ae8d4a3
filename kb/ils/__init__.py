"""The library's integrated library system (ILS): patron accounts and renewals over SIP2.

Chat actions use :class:`AccountService`; everything it returns or raises is
re-exported here.
"""

from kb.ils.account import AccountService, Verification, VerifyOutcome
from kb.ils.sessions import SessionExpired
from kb.ils.sip2.errors import Sip2Error, Sip2NotConfigured, Sip2OutcomeUnknown
from kb.ils.sip2.results import (
    FineItem,
    Fines,
    HoldReady,
    Loan,
    PatronAccount,
    RefusalReason,
    RenewAllResult,
    RenewResult,
)
from kb.ils.sip2.spec import PatronFlag

__all__ = [
    "AccountService",
    "FineItem",
    "Fines",
    "HoldReady",
    "Loan",
    "PatronAccount",
    "PatronFlag",
    "RefusalReason",
    "RenewAllResult",
    "RenewResult",
    "SessionExpired",
    "Sip2Error",
    "Sip2NotConfigured",
    "Sip2OutcomeUnknown",
    "Verification",
    "VerifyOutcome",
]
