"""The vocabulary of a document-delivery request: statuses, events, roles, reasons.

Modelled on ISO 18626:2021 (Interlibrary Loan Transactions) and on Project
ReShare's requester state model (openlibraryenvironment/mod-rs,
``org.olf.rs.statemodel.Status``):

- ISO 18626 supplying-agency statuses: RequestReceived, ExpectToSupply,
  WillSupply, Loaned, CopyCompleted, Unfilled, Cancelled, LoanCompleted,
  RetryPossible. ``SENT`` stands for ReShare's REQ_REQUEST_SENT_TO_SUPPLIER
  (the supplier has it, RequestReceived), ``CONDITIONAL`` for
  REQ_CONDITIONAL_ANSWER_RECEIVED (a WillSupply with loan conditions or a cost
  above the patron's maximum, ISO ReasonRetry CostExceedsMaxCost /
  LoanCondition), ``UNFILLED`` for REQ_END_OF_ROTA (ReShare moves an unfilled
  answer on to the next lender and only ends unfilled when the rota is used up),
  ``COMPLETED`` for REQ_REQUEST_COMPLETE.
- ReasonUnfilled values are the ISO 18626 open code list
  ``http://illtransactions.org/ISO18626/OpenCodeList/ReasonUnfilledList-V1.0``
  (NonCirculating, NotAvailableForILL, NotHeld, NotOnShelf, PolicyProblem,
  PoorCondition), plus CostExceedsMaxCost from the ReasonRetry list and two the
  requesting side records itself: NoAnswer (the lender let its response time
  pass) and ConditionsRejected (the patron declined a conditional offer).
- Outcomes are counted the way the BALIS document-delivery centre reports them:
  satisfied (满足), rejected (拒绝), forwarded (转发).
"""

from __future__ import annotations

import enum


class Status(enum.StrEnum):
    SUBMITTED = "submitted"  # opened, not yet sent to a lender
    SENT = "sent"  # with the current lender of the rota, no answer yet
    EXPECT_TO_SUPPLY = "expect_to_supply"  # the lender is looking for it
    WILL_SUPPLY = "will_supply"  # the lender accepted
    CONDITIONAL = "conditional"  # the lender will supply on conditions the patron must accept
    COPY_COMPLETED = "copy_completed"  # a copy was delivered (file or link)
    LOANED = "loaned"  # the item was lent and is on its way / at the pickup desk
    UNFILLED = "unfilled"  # no lender could supply it (end of rota)
    CANCELLED = "cancelled"
    COMPLETED = "completed"  # the patron has it and the request is closed

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL

    @property
    def is_open(self) -> bool:
        return self not in TERMINAL


TERMINAL = frozenset({Status.UNFILLED, Status.CANCELLED, Status.COMPLETED})
# The request has reached the patron: the moment that ends "completion days".
SUPPLIED = frozenset({Status.COPY_COMPLETED, Status.LOANED})
# A lender holds the request and its response time runs.
WITH_LENDER = frozenset({Status.SENT, Status.EXPECT_TO_SUPPLY, Status.WILL_SUPPLY})


class Event(enum.StrEnum):
    SUBMIT = "submit"  # the request was opened (recorded in the trail; not a move)
    ROUTE = "route"  # system: send to the first lender of the rota
    EXPECT_TO_SUPPLY = "expect_to_supply"  # lender acknowledges and looks for it
    WILL_SUPPLY = "will_supply"  # lender accepts
    CONDITIONAL = "conditional"  # lender offers with conditions
    ACCEPT_CONDITIONS = "accept_conditions"  # patron accepts the conditions
    REJECT_CONDITIONS = "reject_conditions"  # patron declines: next lender
    SUPPLY_COPY = "supply_copy"  # lender delivers a copy (file or link)
    SHIP_LOAN = "ship_loan"  # lender lends the item
    UNFILLED = "unfilled"  # lender cannot supply (with a reason): next lender
    FORWARD = "forward"  # lender passes it on to the next lender of the rota
    NO_ANSWER = "no_answer"  # system: the lender's response time passed: next lender
    CANCEL = "cancel"
    COMPLETE = "complete"  # patron received it / loan returned: close


class Role(enum.StrEnum):
    PATRON = "patron"
    LIBRARIAN = "librarian"  # staff of the delivery centre (the requesting side)
    SUPPLIER = "supplier"  # staff of the lending library the request is with
    SYSTEM = "system"  # router and scheduler


class ReasonUnfilled(enum.StrEnum):
    NON_CIRCULATING = "NonCirculating"
    NOT_AVAILABLE_FOR_ILL = "NotAvailableForILL"
    NOT_HELD = "NotHeld"
    NOT_ON_SHELF = "NotOnShelf"
    POLICY_PROBLEM = "PolicyProblem"
    POOR_CONDITION = "PoorCondition"
    COST_EXCEEDS_MAX_COST = "CostExceedsMaxCost"
    NO_ANSWER = "NoAnswer"
    CONDITIONS_REJECTED = "ConditionsRejected"


class ServiceType(enum.StrEnum):
    COPY = "copy"  # a copy (scan) of an article or chapter; the patron keeps it
    LOAN = "loan"  # the item itself, returned after use
    COPY_OR_LOAN = "copy_or_loan"


class DeliveryMethod(enum.StrEnum):
    EMAIL = "email"  # a download link by e-mail / chat
    PICKUP = "pickup"  # collect at a library's desk


class Genre(enum.StrEnum):
    ARTICLE = "article"
    BOOK = "book"
    CHAPTER = "chapter"  # a part of a book (OpenURL bookitem, GB/T "//" entries)
    THESIS = "thesis"
    UNKNOWN = "unknown"


class RotaState(enum.StrEnum):
    PENDING = "pending"  # not asked yet
    SENT = "sent"  # asked, answer awaited
    FILLED = "filled"  # supplied
    UNFILLED = "unfilled"  # said no (reason recorded)
    FORWARDED = "forwarded"
    NO_ANSWER = "no_answer"
    DECLINED = "declined"  # offered on conditions the patron declined
    WITHDRAWN = "withdrawn"  # the request was cancelled while with this lender
    SKIPPED = "skipped"  # holds the item but cannot lend it (reason recorded), never asked
