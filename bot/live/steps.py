"""Database steps of the live chat (run in a worker thread); they return plain data,
never ORM objects, so the async side can use the results after the session closed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot import texts
from kb.console import departments, queue
from kb.console.models import ChatStatus, Feedback, LiveChat
from kb.conversations import Conversation, ConversationMode, Message, Speaker, record_message
from kb.db import utcnow
from kb.outbound import enqueue
from kb.settings import Settings
from kb.staff.models import StaffMember

BACK_TO_BOT = {"bot", "机器人", "机器人客服", "back to bot"}
SKIP = {"skip", "跳过"}
_RATING = re.compile(r"^\s*([1-5])\s*(?:分|stars?|★)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Patron:
    """Where to reach the patron of a conversation."""

    conversation_id: int
    sender_id: str
    channel: str
    language: str | None

    @property
    def hub_key(self) -> str:
        return patron_key(self.sender_id)


def patron_key(sender_id: str) -> str:
    return f"patron:{sender_id}"


def _patron(conv: Conversation) -> Patron:
    return Patron(conv.id, conv.sender_id, conv.channel, conv.language)


@dataclass
class Said:
    """A line for the patron: already in the transcript (and the outbound queue for
    channels other than the web); the web patron still needs the frame."""

    patron: Patron
    frame: dict[str, Any]
    message_id: int = 0


def say(
    session: Session,
    conv: Conversation,
    speaker: Speaker,
    text: str,
    *,
    buttons: list[dict[str, str]] | None = None,
    name: str | None = None,
    code: str | None = None,
    kind: str = "live",
) -> Said:
    payload: dict[str, Any] = {}
    if buttons:
        payload["buttons"] = buttons
    if name:
        payload["name"] = name
    if code:
        payload["code"] = code
    msg = record_message(session, conv, speaker, text, payload=payload or None)
    if conv.channel != "web":
        enqueue(
            session,
            conv.patron_id,
            text,
            kind=kind,
            buttons=buttons or (),
            channel=conv.channel,
            dedupe_key=f"live:{msg.id}",
        )
    frame: dict[str, Any] = {"type": "message", "speaker": speaker.value, "text": text}
    if buttons:
        frame["buttons"] = buttons
    if name:
        frame["name"] = name
    if code:
        frame["code"] = code
    return Said(_patron(conv), frame, msg.id)


def line_frame(msg: Message, chat_id: int | None = None) -> dict[str, Any]:
    payload = msg.payload or {}
    return {
        "type": "line",
        "chat": chat_id,
        "id": msg.id,
        "speaker": msg.speaker.value,
        "text": msg.text,
        "name": payload.get("name"),
        "intent": msg.intent,
        "confidence": msg.confidence,
        "at": msg.created_at.isoformat(),
    }


# --- the patron's side ------------------------------------------------------


@dataclass
class Intercepted:
    """A patron line the gateway answered itself (not sent to the engine)."""

    replies: list[tuple[str, list[dict[str, str]]]] = field(default_factory=list)
    queue_changed: bool = False


def intercept(
    session: Session, conversation_id: int, text: str, *, feedback_asked: bool = True
) -> Intercepted | None:
    """ "bot" while waiting leaves the queue; a rating or comment after a chat closed.
    ``feedback_asked`` False: the caller knows no rating or comment is asked for."""
    words = text.strip().lower()
    if words not in BACK_TO_BOT and not feedback_asked:
        return None
    conv = session.get(Conversation, conversation_id)
    assert conv is not None
    lang = conv.language
    if words in BACK_TO_BOT and queue.cancel(session, conv) is not None:
        msg = texts.text("left_queue", lang)
        record_message(session, conv, Speaker.SYSTEM, msg)
        return Intercepted([(msg, [])], queue_changed=True)
    chat = queue.awaiting_feedback(session, conversation_id) if feedback_asked else None
    if chat is None:
        return None
    if chat.feedback == Feedback.RATING:
        match = _RATING.match(text)
        if match is None:
            chat.feedback = Feedback.DONE  # they moved on: the bot answers
            return None
        chat.rating, chat.feedback = int(match.group(1)), Feedback.COMMENT
        msg = texts.text("ask_comment", lang)
        skip = texts.text("skip", lang)
        buttons = [{"title": skip, "payload": "skip"}]
        record_message(session, conv, Speaker.SYSTEM, msg, payload={"buttons": buttons})
        return Intercepted([(msg, buttons)])
    chat.feedback = Feedback.DONE
    if words not in SKIP:
        chat.comment = text.strip()[:2000]
    msg = texts.text("feedback_thanks", lang)
    record_message(session, conv, Speaker.SYSTEM, msg)
    return Intercepted([(msg, [])])


def owner_of(session: Session, conversation_id: int) -> tuple[int, int] | None:
    """(chat id, librarian id) of the conversation's active chat."""
    chat = queue.open_chat(session, conversation_id)
    if chat is None or chat.status != ChatStatus.ACTIVE or chat.staff_id is None:
        return None
    return chat.id, chat.staff_id


def patron_line(
    session: Session, conversation_id: int, msg: Message
) -> tuple[int, dict[str, Any]] | None:
    """The librarian who should see this patron line, and the line for their console."""
    owner = owner_of(session, conversation_id)
    if owner is None:
        return None
    return owner[1], line_frame(msg, owner[0])


# --- the queue ---------------------------------------------------------------


@dataclass
class QueueState:
    console: dict[str, Any]  # the snapshot every console shows
    waiting: list[tuple[Patron, int, int]]  # patron, position, minutes


def _transferred(chat: LiveChat) -> bool:
    """Queued after a librarian transferred it: the bot stays silent, and the patron,
    told of the transfer, is not sent places in a queue they cannot leave."""
    return chat.conversation.mode == ConversationMode.HUMAN


def queue_state(session: Session, settings: Settings, now: datetime | None = None) -> QueueState:
    now = now or utcnow()
    rows = []
    waiting = []
    for place in queue.places(session, settings, now):
        chat = session.get(LiveChat, place.chat_id)
        assert chat is not None
        conv = chat.conversation
        if not _transferred(chat):
            waiting.append((_patron(conv), place.position, place.wait_minutes))
        rows.append(
            {
                "id": chat.id,
                "position": place.position,
                "estimate_minutes": place.wait_minutes,
                "waited_seconds": int((now - chat.queued_at).total_seconds()),
                "requested_at": chat.requested_at.isoformat(),
                "channel": conv.channel,
                "language": conv.language,
                "trigger": chat.trigger,
                "requeued": chat.requeues > 0,
                "transferred": _transferred(chat),
                "department": chat.department,
                # Kept for the department now: one of its librarians is online.
                "reserved": departments.reserved_for(session, settings, chat, now) is not None,
            }
        )
    return QueueState({"type": "queue", "chats": rows}, waiting)


def tell_places(
    session: Session,
    settings: Settings,
    *,
    answered: int | None = None,
    moved: frozenset[int] = frozenset(),
    now: datetime | None = None,
) -> int:
    """Queue a new place in the queue for each patron waiting on a push channel
    (Telegram, WeChat) whose place changed, at most once per
    ``console_queue_update_seconds``; returns how many were queued.

    The web chat gets every change live; a push is a message on the patron's phone, so
    it goes out only when the place moved and not more often than that. A change held
    back by the interval goes out on a later call (the sweeper calls this regularly).
    ``answered`` is the conversation whose place the live answer just told. Claiming the
    update is a conditional UPDATE in the same transaction as the message, so two
    gateways never tell the same place twice."""
    now = now or utcnow()
    every = timedelta(seconds=settings.console_queue_update_seconds)
    told = 0
    for place in queue.places(session, settings, now):
        chat = session.get(LiveChat, place.chat_id)
        assert chat is not None
        conv = chat.conversation
        if conv.channel == "web" or chat.told_position == place.position or _transferred(chat):
            continue
        if conv.id != answered and chat.told_at is not None and now - chat.told_at < every:
            continue
        # Compare-and-set on the place told: of two gateways only one moves it on.
        last = (
            LiveChat.told_position.is_(None)
            if chat.told_position is None
            else LiveChat.told_position == chat.told_position
        )
        won = session.execute(  # type: ignore[attr-defined]
            update(LiveChat)
            .where(LiveChat.id == chat.id, last)
            .values(told_position=place.position, told_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won != 1 or conv.id == answered:
            continue
        if conv.id in moved:
            text = texts.text("requeued", conv.language, position=place.position)
        else:
            text = texts.text(
                "queue_position", conv.language, position=place.position, minutes=place.wait_minutes
            )
        enqueue(
            session,
            conv.patron_id,
            text,
            kind="queue",
            channel=conv.channel,
            dedupe_key=f"queue:{chat.id}:{place.position}:{now.isoformat()}",
        )
        told += 1
    return told


# --- the librarian's side ----------------------------------------------------


def _staff(session: Session, staff_id: int) -> StaffMember:
    member = session.get(StaffMember, staff_id)
    assert member is not None
    return member


def claim(session: Session, chat_id: int, staff_id: int, settings: Settings) -> Said:
    member = _staff(session, staff_id)
    chat = queue.claim(session, chat_id, member, settings=settings)
    conv = chat.conversation
    return say(
        session,
        conv,
        Speaker.SYSTEM,
        texts.text("librarian_joined", conv.language, name=member.display_name),
        code="librarian_joined",
    )


def reply(session: Session, chat_id: int, staff_id: int, text: str) -> tuple[Said, dict[str, Any]]:
    member = _staff(session, staff_id)
    chat = queue.owned_chat(session, chat_id, member)
    queue.note_reply(session, chat)
    said = say(session, chat.conversation, Speaker.LIBRARIAN, text, name=member.display_name)
    msg = session.get(Message, said.message_id)
    assert msg is not None
    return said, line_frame(msg, chat.id)


def transfer(
    session: Session, chat_id: int, staff_id: int, to_username: str
) -> tuple[Said, int, int]:
    chat = queue.transfer(session, chat_id, _staff(session, staff_id), to_username)
    assert chat.staff is not None and chat.staff_id is not None
    conv = chat.conversation
    said = say(
        session,
        conv,
        Speaker.SYSTEM,
        texts.text("transferred", conv.language, name=chat.staff.display_name),
        code="transferred",
    )
    return said, chat.staff_id, chat.id


def transfer_to_department(
    session: Session, chat_id: int, staff_id: int, department: str, settings: Settings
) -> Said:
    chat = queue.transfer_to_department(
        session, chat_id, _staff(session, staff_id), department, settings
    )
    conv = chat.conversation
    return say(
        session,
        conv,
        Speaker.SYSTEM,
        texts.text("transferred_department", conv.language, department=chat.department),
        code="transferred",
    )


def close(session: Session, chat_id: int, staff_id: int) -> Said:
    chat = queue.close(session, chat_id, _staff(session, staff_id))
    conv = chat.conversation
    buttons = [{"title": str(n), "payload": f"rate:{n}"} for n in range(1, 6)]
    return say(
        session,
        conv,
        Speaker.SYSTEM,
        texts.text("ask_rating", conv.language),
        buttons=buttons,
        code="ask_rating",
    )


def requeue_abandoned(session: Session, settings: Settings) -> list[tuple[Patron, int, int]]:
    """Chats of librarians gone longer than the grace period: (patron, chat id, old owner)."""
    moved = []
    for chat in queue.abandoned(session, settings):
        owner = chat.staff_id
        if owner is not None and queue.requeue(session, chat.id, owner) is not None:
            moved.append((_patron(chat.conversation), chat.id, owner))
    return moved


def release_stranded(session: Session, settings: Settings) -> list[tuple[Patron, Said]]:
    """Transferred chats nobody online can take: they stay in the queue, but the bot
    answers again meanwhile and the patron may leave, as any waiting patron may."""
    released = []
    for chat in queue.stranded_transfers(session, settings):
        conv = chat.conversation
        conv.mode = ConversationMode.WAITING
        position = next(
            (p.position for p in queue.places(session, settings) if p.chat_id == chat.id), 1
        )
        said = say(
            session,
            conv,
            Speaker.SYSTEM,
            texts.text("transfer_unstaffed", conv.language, position=position),
            code="queue",
        )
        released.append((_patron(conv), said))
    return released


def touch(session: Session, staff_id: int, status: str | None = None) -> None:
    member = _staff(session, staff_id)
    member.last_seen_at = utcnow()
    if status is not None:
        member.console_status = status
