from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb.db import savepoint, utcnow
from kb.outbound.models import OutboundMessage


class OutboundError(ValueError):
    """A message that cannot be queued; the text names the field."""


def enqueue(
    session: Session,
    patron_id: int,
    text: str,
    *,
    kind: str,
    buttons: Sequence[dict[str, str]] = (),
    dedupe_key: str | None = None,
    channel: str | None = None,
    not_before: datetime | None = None,
    extra: dict[str, Any] | None = None,
    message_id: str | None = None,
) -> OutboundMessage:
    """Queue a message for a patron. With ``dedupe_key`` the same message is queued once:
    enqueueing it again returns the first one. ``message_id``: the id to give it (a
    caller that must name the message before it exists, e.g. in the message's own links)."""
    if not text or not text.strip():
        raise OutboundError("text must not be empty")
    for i, button in enumerate(buttons):
        if not button.get("title") or not button.get("payload"):
            raise OutboundError(f"buttons[{i}] needs a title and a payload")
    if dedupe_key is not None:
        existing = session.scalar(
            select(OutboundMessage).where(OutboundMessage.dedupe_key == dedupe_key)
        )
        if existing is not None:
            return existing
    body = {"text": text, "buttons": list(buttons), **(extra or {})}
    message = OutboundMessage(
        id=message_id or str(uuid.uuid4()),
        patron_id=patron_id,
        kind=kind,
        dedupe_key=dedupe_key,
        channel=channel,
        body=json.dumps(body, ensure_ascii=False),
        not_before=not_before or utcnow(),
    )
    try:
        with savepoint(session):
            session.add(message)
    except IntegrityError:
        # A concurrent enqueue with the same key won (the rollback dropped ours).
        found = session.scalar(
            select(OutboundMessage).where(OutboundMessage.dedupe_key == dedupe_key)
        )
        if found is None:
            raise
        return found
    return message


def body_of(message: OutboundMessage) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(message.body)
    return data
