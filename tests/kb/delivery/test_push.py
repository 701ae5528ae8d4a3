"""Each step that is news to the patron is queued for their channel when it commits."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from kb.delivery import desk, push, routing, service
from kb.delivery.desk import Actor
from kb.delivery.models import DeliveryEvent
from kb.delivery.states import Event, ReasonUnfilled
from kb.outbound.models import OutboundMessage
from kb.outbound.service import body_of

from .conftest import NOW, article_draft, hold


def _messages(session):
    return list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.created_at)))


def test_lender_answers_are_pushed_once_per_event(session, catalog, patron, backend):
    hold(catalog.journal, "PKU")
    request = service.open_request(session, patron, article_draft(), now=NOW).request
    session.commit()
    assert _messages(session) == []  # submitted and sent: not news yet

    desk.accept(session, request.ticket, Actor.lender("li", "PKU"), now=NOW)
    session.commit()
    session.commit()  # a second commit does not queue it again
    (message,) = _messages(session)
    accepted = session.scalar(select(DeliveryEvent).where(DeliveryEvent.event == Event.WILL_SUPPLY))
    assert message.patron_id == patron.id
    assert message.kind == "ticket"
    assert message.dedupe_key == push.dedupe_key(request.ticket, accepted.id)
    body = body_of(message)
    assert body["ticket"] == request.ticket and body["event"] == "will_supply"
    assert "提供馆已接受" in body["text"]


def test_a_rolled_back_step_queues_nothing(session, catalog, patron):
    hold(catalog.journal, "PKU")
    request = service.open_request(session, patron, article_draft(), now=NOW).request
    session.commit()
    desk.accept(session, request.ticket, Actor.lender("li", "PKU"), now=NOW)
    session.rollback()
    session.commit()
    assert _messages(session) == []


def test_the_schedulers_timeout_ending_the_rota_is_pushed(session, catalog, patron):
    hold(catalog.journal, "PKU")
    request = service.open_request(session, patron, article_draft(), now=NOW).request
    session.commit()
    routing.advance_overdue(session, NOW + timedelta(days=10))
    session.commit()
    (message,) = _messages(session)
    assert "未能满足" in body_of(message)["text"]
    assert request.rota[0].reason is ReasonUnfilled.NO_ANSWER
