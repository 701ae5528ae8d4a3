"""The gateway's cue that the next message of a conversation is a PIN.

When an action asks the patron for their PIN it leaves a prompt here (with the
card number it is for, encrypted). The gateway looks for a live prompt before a
typed message goes anywhere: if there is one, the message is the PIN. It is
checked with the ILS by the gateway itself, the transcript keeps ``[PIN hidden]``
and the engine only hears the outcome, so the PIN never reaches the transcript,
the tracker store or a log. A prompt is used once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Exists, ForeignKey, String, delete, exists, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kb.conversations.models import Conversation
from kb.crypto import EncryptedText
from kb.db import Base, UTCDateTime, utcnow

PIN_HIDDEN = "[PIN hidden]"
# What the patron asked for before verifying: the engine continues with it.
PURPOSES = ("my_account", "renew_loan")


class PinPrompt(Base):
    __tablename__ = "ils_pin_prompts"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), unique=True
    )
    barcode: Mapped[str] = mapped_column(EncryptedText)
    purpose: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class PendingPin:
    barcode: str
    purpose: str


def expect_pin(
    session: Session, sender_id: str, barcode: str, purpose: str, *, ttl: timedelta
) -> bool:
    """Mark the conversation ``sender_id`` as waiting for a PIN; False if it does not exist."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}, not {purpose!r}")
    conv = session.scalar(select(Conversation).where(Conversation.sender_id == sender_id))
    if conv is None:
        return False
    session.execute(delete(PinPrompt).where(PinPrompt.conversation_id == conv.id))
    now = utcnow()
    session.add(
        PinPrompt(
            conversation_id=conv.id,
            barcode=barcode,
            purpose=purpose,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    session.flush()
    return True


def pin_expected(session: Session, conversation_id: int, *, now: datetime | None = None) -> bool:
    now = now or utcnow()
    found = session.scalar(
        select(PinPrompt.expires_at).where(PinPrompt.conversation_id == conversation_id)
    )
    return found is not None and found > now


def prompt_waiting(conversation_id: int) -> Exists:
    """Is a PIN prompt (live or expired) waiting in this conversation? As SQL, for the
    gateway's one question per turn."""
    return exists().where(PinPrompt.conversation_id == conversation_id)


def take_pin_prompt(
    session: Session, conversation_id: int, *, now: datetime | None = None
) -> PendingPin | None:
    """The live prompt of this conversation, removed (a prompt is used once)."""
    now = now or utcnow()
    prompt = session.scalar(select(PinPrompt).where(PinPrompt.conversation_id == conversation_id))
    if prompt is None:
        return None
    session.delete(prompt)
    session.flush()
    if prompt.expires_at <= now:
        return None
    return PendingPin(prompt.barcode, prompt.purpose)


def drop_pin_prompt(session: Session, conversation_id: int) -> None:
    session.execute(delete(PinPrompt).where(PinPrompt.conversation_id == conversation_id))
