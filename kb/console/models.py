"""Live chats (a conversation handed to librarians), notes, canned replies, console sessions."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.conversations.models import Conversation
from kb.crypto import EncryptedText
from kb.db import Base, UTCDateTime, str_enum, utcnow
from kb.staff.models import StaffMember


class ChatStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for a librarian to claim it
    ACTIVE = "active"  # a librarian owns it; the bot is paused
    CLOSED = "closed"  # the librarian closed it (then the patron may rate it)
    CANCELLED = "cancelled"  # the patron went back to the bot before anyone claimed it


class Feedback(enum.StrEnum):
    RATING = "rating"  # the patron was asked for a 1-5 rating
    COMMENT = "comment"  # rated; a comment may follow
    DONE = "done"


class LiveChat(Base):
    """One hand-over of a conversation to the librarians, from request to close."""

    __tablename__ = "live_chats"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ChatStatus] = mapped_column(str_enum(ChatStatus), index=True)
    trigger: Mapped[str] = mapped_column(String(24))  # intent / fallback / offer
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_members.id", ondelete="SET NULL"), index=True
    )
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # When it (last) joined the queue: a chat returned to the queue keeps its place.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    requeues: Mapped[int] = mapped_column(Integer, default=0)
    feedback: Mapped[Feedback | None] = mapped_column(str_enum(Feedback))
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(EncryptedText)
    # The last place in the queue told to a patron on a push channel (Telegram, WeChat),
    # and when: updates go out only when it changed, and not too often.
    told_position: Mapped[int | None] = mapped_column(Integer)
    told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The department queue it waits in (a staff department, as spelled there): the
    # patron asked for it, or a librarian transferred the chat there. None: everyone's.
    department: Mapped[str | None] = mapped_column(String(100))

    conversation: Mapped[Conversation] = relationship()
    staff: Mapped[StaffMember | None] = relationship()


class ChatNote(Base):
    """An internal note on a chat: librarians see it, the patron never does."""

    __tablename__ = "chat_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    live_chat_id: Mapped[int] = mapped_column(
        ForeignKey("live_chats.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff: Mapped[StaffMember] = relationship()


class CannedReply(Base):
    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    text_zh: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))


class ConsoleSession(Base):
    """A signed-in console: the cookie carries the token, the table only its hash."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_members.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    staff: Mapped[StaffMember] = relationship()


class ServiceHoursOverride(Base):
    """Service hours set in the console, over ``REFDESK_CONSOLE_SERVICE_HOURS``: a
    weekday's hours (``weekday`` 0 = Monday, ``spans`` "08:00-12:00, 13:00-21:00" or ""
    for closed), or a holiday (``day``), when the desk is closed."""

    __tablename__ = "service_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    weekday: Mapped[int | None] = mapped_column(Integer, unique=True)
    day: Mapped[date | None] = mapped_column(Date, unique=True)
    spans: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str | None] = mapped_column(String(200))
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
