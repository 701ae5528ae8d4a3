"""The state machine of a delivery request: one transition table, one way to move.

``TABLE`` maps (current status, event) to the status it leads to and the roles
that may cause it. Three lender outcomes -- ``unfilled``, ``forward`` and the
system's ``no_answer`` -- and the patron declining conditions move the request
along the rota: to ``sent`` (the next lender) or, when the rota is used up, to
``unfilled``; ``route`` does the same for the first lender. Anything not in the
table is refused with :class:`TransitionRefused`, naming the current status and
the attempted event. Every accepted event is appended to the audit trail.

See :mod:`kb.delivery.states` for what the statuses are modelled on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kb.delivery import push  # noqa: F401  (queues patron notices on commit)
from kb.delivery.models import DeliveryEvent, DeliveryRequest
from kb.delivery.states import SUPPLIED, Event, ReasonUnfilled, Role, Status


@dataclass(frozen=True)
class Rule:
    to: Status
    roles: frozenset[Role]
    # Where a rota move ends when no lender is left (None: not a rota move).
    on_rota_end: Status | None = None


_LENDER = frozenset({Role.SUPPLIER, Role.LIBRARIAN})
_PATRON_SIDE = frozenset({Role.PATRON, Role.LIBRARIAN})
_WITH_LENDER = (Status.SENT, Status.EXPECT_TO_SUPPLY, Status.WILL_SUPPLY)
_CANCELLABLE = (Status.SUBMITTED, *_WITH_LENDER, Status.CONDITIONAL)


def _rows() -> dict[tuple[Status, Event], Rule]:
    next_lender = {"to": Status.SENT, "on_rota_end": Status.UNFILLED}
    rows: dict[tuple[Status, Event], Rule] = {
        (Status.SUBMITTED, Event.ROUTE): Rule(
            roles=frozenset({Role.SYSTEM, Role.LIBRARIAN}), **next_lender
        ),
        (Status.SENT, Event.EXPECT_TO_SUPPLY): Rule(Status.EXPECT_TO_SUPPLY, _LENDER),
        (Status.SENT, Event.WILL_SUPPLY): Rule(Status.WILL_SUPPLY, _LENDER),
        (Status.EXPECT_TO_SUPPLY, Event.WILL_SUPPLY): Rule(Status.WILL_SUPPLY, _LENDER),
        (Status.CONDITIONAL, Event.ACCEPT_CONDITIONS): Rule(Status.WILL_SUPPLY, _PATRON_SIDE),
        (Status.CONDITIONAL, Event.REJECT_CONDITIONS): Rule(roles=_PATRON_SIDE, **next_lender),
        (Status.COPY_COMPLETED, Event.COMPLETE): Rule(
            Status.COMPLETED, frozenset({Role.PATRON, Role.LIBRARIAN, Role.SYSTEM})
        ),
        (Status.LOANED, Event.COMPLETE): Rule(Status.COMPLETED, frozenset({Role.LIBRARIAN})),
    }
    for status in _WITH_LENDER:
        rows[(status, Event.CONDITIONAL)] = Rule(Status.CONDITIONAL, _LENDER)
        rows[(status, Event.SUPPLY_COPY)] = Rule(Status.COPY_COMPLETED, _LENDER)
        rows[(status, Event.SHIP_LOAN)] = Rule(Status.LOANED, _LENDER)
        rows[(status, Event.UNFILLED)] = Rule(roles=_LENDER, **next_lender)
        rows[(status, Event.FORWARD)] = Rule(roles=_LENDER, **next_lender)
        rows[(status, Event.NO_ANSWER)] = Rule(roles=frozenset({Role.SYSTEM}), **next_lender)
    for status in _CANCELLABLE:
        rows[(status, Event.CANCEL)] = Rule(Status.CANCELLED, _PATRON_SIDE)
    return rows


TABLE: dict[tuple[Status, Event], Rule] = _rows()


class TransitionRefused(Exception):
    """An event that the transition table does not allow now, or not to this role."""

    def __init__(self, ticket: str, status: Status, event: Event, role: Role, why: str) -> None:
        self.ticket, self.status, self.event, self.role = ticket, status, event, role
        super().__init__(f"request {ticket} is '{status}': {why}")


def rule_for(status: Status, event: Event, role: Role, ticket: str = "?") -> Rule:
    """The rule for this move, or :class:`TransitionRefused` saying why not."""
    rule = TABLE.get((status, event))
    if rule is None:
        possible = sorted(e.value for (s, e) in TABLE if s == status)
        allowed = ", ".join(possible) or "none, it is closed"
        why = f"event '{event}' is not allowed (allowed now: {allowed})"
        raise TransitionRefused(ticket, status, event, role, why)
    if role not in rule.roles:
        who = ", ".join(sorted(r.value for r in rule.roles))
        why = f"event '{event}' cannot be done by a {role} (only by: {who})"
        raise TransitionRefused(ticket, status, event, role, why)
    return rule


def allowed_events(status: Status, role: Role) -> list[Event]:
    """What this role may do to a request in this status (for console buttons)."""
    return [e for (s, e), rule in TABLE.items() if s == status and role in rule.roles]


def apply(
    request: DeliveryRequest,
    event: Event,
    *,
    actor: str,
    role: Role,
    now: datetime,
    rota_exhausted: bool = False,
    lender: str | None = None,
    routed_to: str | None = None,
    reason: ReasonUnfilled | None = None,
    note: str | None = None,
) -> DeliveryEvent:
    """Move ``request`` by ``event`` and append to the audit trail; refuse what TABLE does not."""
    rule = rule_for(request.status, event, role, request.ticket)
    to = rule.on_rota_end if rule.on_rota_end is not None and rota_exhausted else rule.to
    record = DeliveryEvent(
        at=now,
        event=event,
        actor=actor,
        role=role,
        from_status=request.status,
        to_status=to,
        lender=lender,
        routed_to=routed_to,
        reason=reason,
        note=note,
    )
    request.events.append(record)
    request.status = to
    if to in SUPPLIED and request.supplied_at is None:
        request.supplied_at = now
    if to.is_terminal:
        request.closed_at = now
        request.open_dedupe_key = None
        request.current_lender = None
        request.answer_due_at = None
    return record


def record_submission(
    request: DeliveryRequest, *, actor: str, role: Role, now: datetime, note: str | None = None
) -> DeliveryEvent:
    """The first line of the audit trail: who opened the request, when, from where."""
    record = DeliveryEvent(
        at=now,
        event=Event.SUBMIT,
        actor=actor,
        role=role,
        from_status=Status.SUBMITTED,
        to_status=Status.SUBMITTED,
        note=note,
    )
    request.events.append(record)
    return record
