"""Finding or creating the patron behind a channel user."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb.crypto import keyring
from kb.db import savepoint, utcnow
from kb.patrons.models import ChannelIdentity, Patron


def sender_id(channel: str, external_id: str) -> str:
    """The conversation id the Rasa engine knows a patron's channel by.

    It is a keyed hash, so the engine's tracker store never holds the channel's
    own user id (a Telegram chat id, a WeChat openid).
    """
    return f"{channel}-{keyring().blind_index(external_id, 'sender:' + channel)[:32]}"


def identity_for(session: Session, channel: str, external_id: str) -> ChannelIdentity:
    """The identity for this channel user, creating a new patron on first contact."""
    index = keyring().blind_index(external_id, "channel:" + channel)
    found = session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel, ChannelIdentity.external_index == index
        )
    )
    if found is not None:
        found.last_seen_at = utcnow()
        return found
    patron = Patron()
    identity = ChannelIdentity(
        patron=patron, channel=channel, external_id=external_id, external_index=index
    )
    try:
        with savepoint(session):
            session.add(identity)
    except IntegrityError:
        # A concurrent first message created it; use theirs.
        return identity_for(session, channel, external_id)
    return identity


def patron_for_sender(session: Session, sender: str) -> Patron | None:
    """The patron behind a Rasa conversation id (see :func:`sender_id`)."""
    from kb.conversations.models import Conversation

    conv = session.scalar(select(Conversation).where(Conversation.sender_id == sender))
    return conv.patron if conv is not None else None
