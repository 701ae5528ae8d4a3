"""The live-chat queue: request a librarian, claim (race-safe), transfer to a colleague
or a department, close, rate, return to the queue. Functions take a session; the
caller commits.

A conversation has at most one open live chat (queued or active). Its mode follows:
queued -> WAITING (the bot still answers), active -> HUMAN (the bot is silent),
closed / cancelled -> BOT. A chat transferred to a department waits in the queue
with the bot still silent (HUMAN): the patron was already talking to a person.
Department chats follow the claim rule in :mod:`kb.console.departments`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from kb.console import departments
from kb.console.availability import online_librarians, same_department
from kb.console.models import ChatStatus, Feedback, LiveChat
from kb.conversations.models import Conversation, ConversationMode
from kb.db import utcnow
from kb.settings import Settings, get_settings
from kb.staff.models import StaffMember

OPEN = (ChatStatus.QUEUED, ChatStatus.ACTIVE)


class QueueError(ValueError):
    """A queue action that cannot be done now; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Place:
    chat_id: int
    conversation_id: int
    position: int  # 1 = next
    wait_minutes: int  # estimate


def open_chat(session: Session, conversation_id: int) -> LiveChat | None:
    return session.scalar(
        select(LiveChat).where(
            LiveChat.conversation_id == conversation_id, LiveChat.status.in_(OPEN)
        )
    )


def request_chat(
    session: Session,
    conv: Conversation,
    trigger: str,
    now: datetime | None = None,
    department: str | None = None,
) -> LiveChat:
    """Put the conversation in the queue (or return its open chat): in ``department``'s
    queue if a console account belongs to that department, else the general one."""
    chat = open_chat(session, conv.id)
    if chat is not None:
        return chat
    now = now or utcnow()
    chat = LiveChat(
        conversation_id=conv.id,
        status=ChatStatus.QUEUED,
        trigger=trigger,
        department=departments.find(session, department) if department else None,
        requested_at=now,
        queued_at=now,
        transfers=0,
        requeues=0,
    )
    session.add(chat)
    conv.mode = ConversationMode.WAITING
    session.flush()
    return chat


def queued(session: Session, department: str | None = None) -> list[LiveChat]:
    """The queue in order; with ``department``, only the chats waiting for it."""
    chats = session.scalars(
        select(LiveChat)
        .where(LiveChat.status == ChatStatus.QUEUED)
        .order_by(LiveChat.queued_at, LiveChat.id)
    )
    return [c for c in chats if department is None or same_department(c.department, department)]


def average_chat_minutes(session: Session, settings: Settings, recent: int = 50) -> float:
    rows = session.execute(
        select(LiveChat.claimed_at, LiveChat.closed_at)
        .where(LiveChat.status == ChatStatus.CLOSED, LiveChat.claimed_at.is_not(None))
        .order_by(LiveChat.id.desc())
        .limit(recent)
    ).all()
    spans = [(c - a).total_seconds() / 60 for a, c in rows if a and c]
    return sum(spans) / len(spans) if spans else settings.console_default_chat_minutes


def places(session: Session, settings: Settings, now: datetime | None = None) -> list[Place]:
    """Every queued chat with its position and an estimated wait.

    The estimate: chats ahead shared among the librarians online, each taking the
    average length of recent chats (at least one minute for the next in line)."""
    chats = queued(session)
    if not chats:
        return []
    staff = max(1, online_librarians(session, settings, now))
    avg = average_chat_minutes(session, settings)
    return [
        Place(c.id, c.conversation_id, i + 1, max(1, math.ceil((i // staff + 0.5) * avg)))
        for i, c in enumerate(chats)
    ]


def cancel(session: Session, conv: Conversation) -> LiveChat | None:
    """The patron goes back to the bot: only while nobody has claimed the chat."""
    chat = open_chat(session, conv.id)
    if chat is None or chat.status != ChatStatus.QUEUED:
        return None
    chat.status = ChatStatus.CANCELLED
    chat.closed_at = utcnow()
    conv.mode = ConversationMode.BOT
    session.flush()
    return chat


def claim(
    session: Session,
    chat_id: int,
    staff: StaffMember,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> LiveChat:
    """Take a queued chat. Exactly one of several librarians claiming at once wins:
    the update only matches while the chat is still queued. A department's chat is
    theirs while one of them is online (``kb.console.departments``)."""
    now = now or utcnow()
    waiting = session.get(LiveChat, chat_id)
    if waiting is not None and waiting.status == ChatStatus.QUEUED:
        settings = settings or get_settings()
        if not departments.may_claim(session, settings, waiting, staff, now):
            raise QueueError(
                "reserved",
                f"this chat waits for {waiting.department}, and a librarian of it is online",
            )
    won = session.execute(
        update(LiveChat)
        .where(LiveChat.id == chat_id, LiveChat.status == ChatStatus.QUEUED)
        # The first claim stays: a chat back in the queue (requeued, or transferred to a
        # department) has already been answered, and the metrics measure from it.
        .values(
            status=ChatStatus.ACTIVE,
            staff_id=staff.id,
            claimed_at=func.coalesce(LiveChat.claimed_at, now),
        )
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    chat = session.get(LiveChat, chat_id)
    if chat is None:
        raise QueueError("not_found", f"there is no chat {chat_id}")
    session.refresh(chat)
    if not won:
        owner = chat.staff.display_name if chat.staff else None
        if chat.status == ChatStatus.ACTIVE and owner:
            raise QueueError("taken", f"{owner} has already taken this chat")
        raise QueueError("gone", "this chat is no longer waiting")
    chat.conversation.mode = ConversationMode.HUMAN
    session.flush()
    return chat


def owned_chat(session: Session, chat_id: int, staff: StaffMember) -> LiveChat:
    chat = session.get(LiveChat, chat_id)
    if chat is None:
        raise QueueError("not_found", f"there is no chat {chat_id}")
    if chat.status != ChatStatus.ACTIVE:
        raise QueueError("not_active", "this chat is not active")
    if chat.staff_id != staff.id:
        raise QueueError("not_yours", "this chat belongs to another librarian")
    return chat


def transfer(session: Session, chat_id: int, staff: StaffMember, to_username: str) -> LiveChat:
    chat = owned_chat(session, chat_id, staff)
    target = session.scalar(
        select(StaffMember).where(StaffMember.username == to_username.strip().lower())
    )
    if target is None or not target.active or target.password_hash is None:
        raise QueueError("no_colleague", f"no console user {to_username!r}")
    if target.id == staff.id:
        raise QueueError("same", "the chat is already yours")
    chat.staff_id = target.id
    chat.transfers += 1
    session.flush()
    session.refresh(chat)
    return chat


def transfer_to_department(
    session: Session,
    chat_id: int,
    staff: StaffMember,
    department: str,
    settings: Settings,
    now: datetime | None = None,
) -> LiveChat:
    """Hand an active chat to a department: it goes back to the queue, kept for that
    department while one of its librarians is online.

    It keeps its first place in the queue (``queued_at`` is not reset): the patron
    already waited once and is mid-conversation, so a librarian expects the chat ahead
    of patrons who asked later, not behind them. The conversation stays HUMAN (the
    engine stays paused): the bot must not cut into a conversation with a person."""
    chat = owned_chat(session, chat_id, staff)
    name = departments.find(session, department)
    if name is None:
        raise QueueError("no_department", f"no console user belongs to {department!r}")
    if online_librarians(session, settings, now, name) == 0:
        raise QueueError("department_offline", f"nobody from {name} is online")
    chat.status = ChatStatus.QUEUED
    chat.staff_id = None
    chat.department = name
    chat.transfers += 1
    session.flush()
    session.refresh(chat)
    return chat


def close(
    session: Session, chat_id: int, staff: StaffMember, now: datetime | None = None
) -> LiveChat:
    chat = owned_chat(session, chat_id, staff)
    chat.status = ChatStatus.CLOSED
    chat.closed_at = now or utcnow()
    chat.feedback = Feedback.RATING
    chat.conversation.mode = ConversationMode.BOT
    session.flush()
    return chat


def requeue(session: Session, chat_id: int, owner_id: int) -> LiveChat | None:
    """An active chat goes back to the queue (its librarian disconnected); it keeps its
    place. Only if ``owner_id`` still owns it, so two gateways sweeping at once move it once."""
    moved = session.execute(
        update(LiveChat)
        .where(
            LiveChat.id == chat_id,
            LiveChat.status == ChatStatus.ACTIVE,
            LiveChat.staff_id == owner_id,
        )
        .values(status=ChatStatus.QUEUED, staff_id=None, requeues=LiveChat.requeues + 1)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    chat = session.get(LiveChat, chat_id)
    if not moved or chat is None:
        return None
    session.refresh(chat)
    chat.conversation.mode = ConversationMode.WAITING
    session.flush()
    return chat


def stranded_transfers(
    session: Session, settings: Settings, now: datetime | None = None
) -> list[LiveChat]:
    """Chats transferred to a department (the bot kept silent) while no librarian at all
    is online any more: nobody would ever answer them."""
    if online_librarians(session, settings, now) > 0:
        return []
    return list(
        session.scalars(
            select(LiveChat)
            .join(Conversation, Conversation.id == LiveChat.conversation_id)
            .where(
                LiveChat.status == ChatStatus.QUEUED,
                Conversation.mode == ConversationMode.HUMAN,
            )
        )
    )


def abandoned(session: Session, settings: Settings, now: datetime | None = None) -> list[LiveChat]:
    """Active chats whose librarian's console has not been heard from for the grace period."""
    since = (now or utcnow()) - timedelta(seconds=settings.console_grace_seconds)
    return list(
        session.scalars(
            select(LiveChat)
            .join(StaffMember, StaffMember.id == LiveChat.staff_id)
            .where(
                LiveChat.status == ChatStatus.ACTIVE,
                (StaffMember.last_seen_at < since) | StaffMember.last_seen_at.is_(None),
            )
        )
    )


def note_reply(session: Session, chat: LiveChat, now: datetime | None = None) -> None:
    if chat.first_reply_at is None:
        chat.first_reply_at = now or utcnow()


def feedback_asked(conversation_id: int) -> ColumnElement[bool]:
    """Is a rating or comment asked for after this conversation's latest chat? As SQL,
    for the gateway's one question per turn (awaiting_feedback loads the chat)."""
    latest = (
        select(LiveChat.feedback)
        .where(LiveChat.conversation_id == conversation_id)
        .order_by(LiveChat.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return latest.in_([Feedback.RATING, Feedback.COMMENT])


def awaiting_feedback(session: Session, conversation_id: int) -> LiveChat | None:
    """The latest chat of the conversation if its rating or comment is still asked for."""
    chat = session.scalar(
        select(LiveChat)
        .where(LiveChat.conversation_id == conversation_id)
        .order_by(LiveChat.id.desc())
        .limit(1)
    )
    if chat is None or chat.feedback not in (Feedback.RATING, Feedback.COMMENT):
        return None
    return chat
