"""Patrons and the channel identities (web session, Telegram chat, WeChat openid) they use."""

from kb.patrons.models import ChannelIdentity, Patron
from kb.patrons.service import identity_for, patron_for_sender, sender_id

__all__ = ["ChannelIdentity", "Patron", "identity_for", "patron_for_sender", "sender_id"]
