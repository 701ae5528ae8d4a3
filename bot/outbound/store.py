"""The outbound queue's state changes, each one short transaction (run via bot.db.Database).

States (kb.outbound.OutboundStatus):

    QUEUED --claim--> SENDING --sent--> SENT
      ^  \\              |  \\--retry / unreachable--> QUEUED
      |   \\-- no channel / too many tries --> DEAD       \\--rejected--> DEAD
      |                  \\--uncertain, or worker died (lease ran out) on a
      |                     non-idempotent channel--> UNCERTAIN
      \\------------ staff requeue (refdesk outbound requeue) ------------/

SENDING is committed *before* the channel is called: that is what makes a crash
between send and commit visible, so the message is never shown twice.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from bot.replies import Button
from kb.conversations import find_conversation, record_message
from kb.conversations.models import Speaker
from kb.db import utcnow
from kb.outbound import OutboundMessage, OutboundStatus
from kb.patrons.models import ChannelIdentity, Patron

Live = Callable[[str, str], bool]  # (channel, address) -> reachable right now


@dataclass(frozen=True)
class Candidate:
    """A due message and where it would go."""

    id: str
    channel: str
    identity_id: int | None  # None for e-mail (the address is the patron's)
    address: str
    text: str
    buttons: tuple[Button, ...]
    links: tuple[str, ...]
    language: str | None
    kind: str
    email: dict[str, Any] | None = None


EMAIL = "email"
STOPPED = "the patron turned pushes off (/stop) on every reachable channel"


@dataclass
class Scan:
    candidates: list[Candidate]
    dead: int  # messages given up during the scan (nowhere to send them)


def _body(message: OutboundMessage) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(message.body)
    return data


def choose_identity(
    patron: Patron, forced: str | None, channels: Collection[str], live: Live
) -> tuple[ChannelIdentity | None, str]:
    """The identity to push to, or None and why not.

    Order: the patron's preferred channel, then channels reachable right now (a web
    tab open; Telegram always is), then the one used most recently.
    """
    usable = [
        i
        for i in patron.identities
        if i.channel in channels and (forced is None or i.channel == forced)
    ]
    if not usable:
        return None, "the patron has no channel we can send on"
    reachable = [i for i in usable if i.reachable]
    if not reachable:
        reasons = sorted({f"{i.channel}: {i.unreachable_reason or 'unreachable'}" for i in usable})
        return None, "unreachable on every channel (" + "; ".join(reasons) + ")"
    allowed = [i for i in reachable if i.push_enabled]
    if not allowed:
        return None, STOPPED

    def rank(i: ChannelIdentity) -> tuple[bool, bool, float]:
        return (
            i.channel != patron.preferred_channel,
            not live(i.channel, i.external_id),
            -i.last_seen_at.timestamp(),
        )

    return min(allowed, key=rank), ""


def scan(
    session: Session, channels: Collection[str], live: Live, limit: int, now: datetime
) -> Scan:
    """Due messages with their chosen identity; messages with nowhere to go become DEAD."""
    rows = session.scalars(
        select(OutboundMessage)
        .where(
            OutboundMessage.status == OutboundStatus.QUEUED,
            OutboundMessage.not_before <= now,
            # A message insisting on a channel we have no sender for waits for one.
            or_(OutboundMessage.channel.is_(None), OutboundMessage.channel.in_(list(channels))),
        )
        .order_by(OutboundMessage.not_before, OutboundMessage.created_at)
        .limit(limit)
        .options(selectinload(OutboundMessage.patron).selectinload(Patron.identities))
    ).all()
    found: list[Candidate] = []
    dead = 0
    for row in rows:
        identity, why = choose_identity(row.patron, row.channel, channels, live)
        address = None if identity is not None else _email_address(row, channels, why)
        if (
            identity is not None
            and identity.channel == "web"
            and not live("web", identity.external_id)
        ):
            # A web chat with no tab open reaches nobody until they come back; e-mail does.
            address = _email_address(row, channels, why)
            if address is not None:
                identity = None
        if identity is None and address is None:
            if row.channel == EMAIL:
                why = "the patron has no e-mail address"
            row.status = OutboundStatus.DEAD
            row.last_error = why
            dead += 1
            continue
        body = _body(row)
        found.append(
            Candidate(
                id=row.id,
                channel=identity.channel if identity is not None else EMAIL,
                identity_id=identity.id if identity is not None else None,
                address=identity.external_id if identity is not None else str(address),
                text=body["text"],
                buttons=tuple(Button(b["title"], b["payload"]) for b in body.get("buttons", [])),
                links=tuple(body.get("links", [])),
                language=row.patron.language,
                kind=row.kind,
                email=body.get("email"),
            )
        )
    return Scan(found, dead)


def _email_address(row: OutboundMessage, channels: Collection[str], why: str) -> str | None:
    """E-mail when the message asks for it, or when no chat channel can take it now (but
    not when the patron turned pushes off with /stop: that is a no to notifications)."""
    if EMAIL not in channels or row.channel not in (None, EMAIL):
        return None
    if row.channel is None and why == STOPPED:
        return None
    address: str | None = row.patron.email
    return address or None


def claim(
    session: Session, picks: list[Candidate], worker: str, lease_until: datetime
) -> list[Candidate]:
    """QUEUED -> SENDING for each pick still queued (another worker may have won)."""
    won = []
    for c in picks:
        result = session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == c.id, OutboundMessage.status == OutboundStatus.QUEUED)
            .values(
                status=OutboundStatus.SENDING,
                lease_until=lease_until,
                claimed_by=worker,
                sent_channel=c.channel,
                identity_id=c.identity_id,
            )
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            won.append(c)
    return won


def defer(session: Session, until: dict[str, datetime]) -> None:
    """Push messages whose chat must wait (per-chat pacing) back in the queue order."""
    for message_id, when in until.items():
        session.execute(
            update(OutboundMessage)
            .where(
                OutboundMessage.id == message_id, OutboundMessage.status == OutboundStatus.QUEUED
            )
            .values(not_before=when)
        )


def mark_sent(session: Session, c: Candidate, channel_message_id: str | None) -> None:
    """SENT, and the line joins the patron's transcript on that channel (so librarians see
    it, the web chat shows it on reconnect, and its buttons count as offered)."""
    row = session.get(OutboundMessage, c.id)
    assert row is not None
    row.status = OutboundStatus.SENT
    row.sent_at = utcnow()
    row.lease_until = None
    row.channel_message_id = channel_message_id
    row.last_error = None
    conv = find_conversation(session, c.channel, c.address)
    if conv is not None:
        payload: dict[str, Any] = {"outbound": c.id, "kind": c.kind}
        if c.buttons:
            payload["buttons"] = [{"title": b.title, "payload": b.payload} for b in c.buttons]
            payload["payloads"] = [b.payload for b in c.buttons]
        record_message(session, conv, Speaker.BOT, c.text, payload=payload)


def backoff(attempts: int, base: float, cap: float) -> float:
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return delay * random.uniform(0.9, 1.1)  # spread retries of many messages apart


def mark_retry(
    session: Session,
    message_id: str,
    reason: str,
    *,
    after: float | None,
    counts: bool,
    max_attempts: int,
    base: float,
    cap: float,
) -> OutboundStatus:
    row = session.get(OutboundMessage, message_id)
    assert row is not None
    if counts:
        row.attempts += 1
    row.last_error = reason
    row.lease_until = None
    if row.attempts >= max_attempts:
        row.status = OutboundStatus.DEAD
        row.last_error = f"gave up after {row.attempts} tries; last error: {reason}"
        return row.status
    delay = after if after is not None else backoff(row.attempts, base, cap)
    row.status = OutboundStatus.QUEUED
    row.not_before = utcnow() + timedelta(seconds=delay)
    return row.status


def mark_unreachable(session: Session, message_id: str, identity_id: int, reason: str) -> None:
    """The identity cannot be reached: remember why; the message tries another channel."""
    identity = session.get(ChannelIdentity, identity_id)
    if identity is not None:
        identity.reachable = False
        identity.unreachable_reason = reason[:200]
        identity.unreachable_at = utcnow()
    row = session.get(OutboundMessage, message_id)
    assert row is not None
    row.status = OutboundStatus.QUEUED
    row.lease_until = None
    row.last_error = f"{row.sent_channel}: {reason}"


def mark_final(session: Session, message_id: str, status: OutboundStatus, reason: str) -> None:
    row = session.get(OutboundMessage, message_id)
    assert row is not None
    row.status = status
    row.lease_until = None
    row.last_error = reason


def recover_expired(session: Session, idempotent: Collection[str], now: datetime) -> int:
    """SENDING messages whose lease ran out (their worker died or hung).

    On an idempotent channel they are queued again; elsewhere the patron may have them,
    so they become UNCERTAIN for staff rather than being sent twice."""
    rows = session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.status == OutboundStatus.SENDING, OutboundMessage.lease_until < now
        )
    ).all()
    for row in rows:
        row.lease_until = None
        if row.sent_channel in idempotent:
            row.status = OutboundStatus.QUEUED
            row.last_error = f"worker {row.claimed_by} stopped mid-send; queued again"
        else:
            row.status = OutboundStatus.UNCERTAIN
            row.last_error = (
                f"worker {row.claimed_by} stopped between sending on {row.sent_channel} and "
                "recording it: the patron may have this message; not resent"
            )
    return len(rows)


# --- staff ---------------------------------------------------------------------


def for_staff(session: Session, limit: int = 200) -> list[OutboundMessage]:
    """Dead letters and uncertain sends, newest first."""
    return list(
        session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.status.in_([OutboundStatus.DEAD, OutboundStatus.UNCERTAIN]))
            .order_by(OutboundMessage.created_at.desc())
            .limit(limit)
        ).all()
    )


def requeue(session: Session, message_id: str) -> OutboundMessage | None:
    """A staff decision to send a dead or uncertain message (again)."""
    row = session.get(OutboundMessage, message_id)
    if row is None or row.status not in (OutboundStatus.DEAD, OutboundStatus.UNCERTAIN):
        return None
    row.status = OutboundStatus.QUEUED
    row.attempts = 0
    row.not_before = utcnow()
    row.last_error = f"requeued by staff (was: {row.last_error})"
    return row
