"""The transition table: every allowed move works and is audited; everything else is refused."""

from __future__ import annotations

import itertools

import pytest

from kb.delivery import transitions
from kb.delivery.models import DeliveryRequest
from kb.delivery.states import SUPPLIED, TERMINAL, Event, ReasonUnfilled, Role, Status
from kb.delivery.transitions import TABLE, TransitionRefused

from .conftest import NOW


def _request(status: Status) -> DeliveryRequest:
    return DeliveryRequest(
        ticket="DD-2026-000123",
        status=status,
        current_lender="PKU",
        open_dedupe_key="1:doi:10.1/x",
        events=[],
    )


ALLOWED = sorted(
    ((s, e, role) for (s, e), rule in TABLE.items() for role in rule.roles),
    key=lambda t: (t[0].value, t[1].value, t[2].value),
)


@pytest.mark.parametrize(("status", "event", "role"), ALLOWED, ids=lambda v: v.value)
def test_every_allowed_transition_moves_and_is_audited(status: Status, event: Event, role: Role):
    rule = TABLE[(status, event)]
    request = _request(status)
    record = transitions.apply(
        request,
        event,
        actor="someone",
        role=role,
        now=NOW,
        note="because",
        reason=ReasonUnfilled.NOT_HELD,
    )
    assert request.status is rule.to
    assert (record.from_status, record.to_status, record.event) == (status, rule.to, event)
    assert (record.actor, record.role, record.at, record.note) == ("someone", role, NOW, "because")
    assert request.events == [record]
    assert (request.supplied_at == NOW) is (rule.to in SUPPLIED)
    if rule.to in TERMINAL:
        # A closed request frees its duplicate key and leaves its lender's queue.
        assert request.closed_at == NOW
        assert request.open_dedupe_key is None and request.current_lender is None


ROTA_MOVES = [(s, e) for (s, e), rule in TABLE.items() if rule.on_rota_end is not None]


@pytest.mark.parametrize(("status", "event"), ROTA_MOVES, ids=lambda v: v.value)
def test_rota_moves_go_to_the_next_lender_or_end_unfilled(status: Status, event: Event):
    role = sorted(TABLE[(status, event)].roles)[0]
    going_on = _request(status)
    transitions.apply(going_on, event, actor="x", role=role, now=NOW, rota_exhausted=False)
    assert going_on.status is Status.SENT
    at_end = _request(status)
    transitions.apply(at_end, event, actor="x", role=role, now=NOW, rota_exhausted=True)
    assert at_end.status is Status.UNFILLED


def test_the_lender_outcomes_and_timeout_are_rota_moves():
    for event in (Event.UNFILLED, Event.FORWARD, Event.NO_ANSWER):
        rule = TABLE[(Status.SENT, event)]
        assert (rule.to, rule.on_rota_end) == (Status.SENT, Status.UNFILLED)
    assert TABLE[(Status.SENT, Event.NO_ANSWER)].roles == {Role.SYSTEM}


REFUSED = [
    (s, e)
    for s, e in itertools.product(Status, Event)
    if (s, e) not in TABLE and e is not Event.SUBMIT
]


@pytest.mark.parametrize(("status", "event"), REFUSED, ids=lambda v: v.value)
def test_moves_not_in_the_table_are_refused_naming_status_and_event(status: Status, event: Event):
    request = _request(status)
    with pytest.raises(TransitionRefused) as refused:
        transitions.apply(request, event, actor="x", role=Role.LIBRARIAN, now=NOW)
    message = str(refused.value)
    assert f"'{status}'" in message and f"'{event}'" in message and "DD-2026-000123" in message
    # Nothing changed and nothing was recorded.
    assert request.status is status and request.events == []


def test_closed_requests_say_nothing_more_is_allowed():
    with pytest.raises(TransitionRefused, match="none, it is closed"):
        transitions.apply(
            _request(Status.CANCELLED), Event.SUPPLY_COPY, actor="x", role=Role.SUPPLIER, now=NOW
        )


@pytest.mark.parametrize(
    ("status", "event", "role"),
    [
        (Status.SENT, Event.SUPPLY_COPY, Role.PATRON),  # a patron cannot say it was supplied
        (Status.SENT, Event.NO_ANSWER, Role.LIBRARIAN),  # only the clock decides a timeout
        (Status.SENT, Event.CANCEL, Role.SUPPLIER),  # a lender rejects, it does not cancel
        (Status.CONDITIONAL, Event.ACCEPT_CONDITIONS, Role.SUPPLIER),  # the patron decides
        (Status.LOANED, Event.COMPLETE, Role.PATRON),  # a loan is closed when it is back
        (Status.SUBMITTED, Event.ROUTE, Role.PATRON),
    ],
)
def test_a_role_not_allowed_to_make_a_move_is_refused(status: Status, event: Event, role: Role):
    with pytest.raises(TransitionRefused, match=f"cannot be done by a {role}"):
        transitions.apply(_request(status), event, actor="x", role=role, now=NOW)


def test_allowed_events_lists_the_buttons_a_role_gets():
    assert set(transitions.allowed_events(Status.SENT, Role.SUPPLIER)) == {
        Event.EXPECT_TO_SUPPLY,
        Event.WILL_SUPPLY,
        Event.CONDITIONAL,
        Event.SUPPLY_COPY,
        Event.SHIP_LOAN,
        Event.UNFILLED,
        Event.FORWARD,
    }
    assert transitions.allowed_events(Status.COMPLETED, Role.LIBRARIAN) == []
    assert transitions.allowed_events(Status.CONDITIONAL, Role.PATRON) == [
        Event.ACCEPT_CONDITIONS,
        Event.REJECT_CONDITIONS,
        Event.CANCEL,
    ]
