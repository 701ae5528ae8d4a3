"""Push each step that is news to the patron into the outbound queue, on commit.

Every event enters the trail through :mod:`kb.delivery.transitions`, but from many
callers (desk, patron service, the scheduler's timeouts) and before it has an id.
So the hook sits on the session instead: events flushed in a transaction are
noted, and just before it commits each one that :func:`notices.notice_for` has
text for is enqueued with the dedupe key ``delivery:<ticket>:<event id>``. The
message commits (or rolls back) with the step itself, chat and API alike, and a
retried commit never sends a step twice.
"""

from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from kb.delivery.models import DeliveryEvent

_PENDING = "delivery_push_pending"
KIND = "ticket"


def dedupe_key(ticket: str, event_id: int) -> str:
    return f"delivery:{ticket}:{event_id}"


@event.listens_for(Session, "after_flush")
def _note_new_events(session: Session, _context: object) -> None:
    new = [obj for obj in session.new if isinstance(obj, DeliveryEvent)]
    if new:
        session.info.setdefault(_PENDING, []).extend(new)


@event.listens_for(Session, "before_commit")
def _enqueue_notices(session: Session) -> None:
    session.flush()  # events added since the last flush get their ids
    pending = session.info.pop(_PENDING, [])
    if pending:
        enqueue_notices(session, pending)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


def enqueue_notices(session: Session, events: list[DeliveryEvent]) -> int:
    """Queue the patron's notice for each of ``events`` that is news; how many were queued."""
    from kb.delivery.notices import notice_for  # notices imports routing, which imports us
    from kb.outbound import enqueue

    queued = 0
    for record in sorted(events, key=lambda e: e.id or 0):
        state = inspect(record)
        if not state.persistent or state.deleted:  # rolled back with a savepoint
            continue
        request = record.request
        if request.patron_id is None:  # the patron was forgotten: nobody to tell
            continue
        text = notice_for(session, request, record)
        if text is None:
            continue
        enqueue(
            session,
            request.patron_id,
            text,
            kind=KIND,
            dedupe_key=dedupe_key(request.ticket, record.id),
            extra={"ticket": request.ticket, "event": record.event.value},
        )
        queued += 1
    return queued
