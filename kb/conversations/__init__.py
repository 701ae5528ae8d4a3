"""Conversations (one per patron and channel) and their transcripts."""

from kb.conversations.models import Conversation, ConversationMode, Message, Speaker
from kb.conversations.service import (
    conversation_for,
    find_conversation,
    recent_messages,
    record_message,
)

__all__ = [
    "Conversation",
    "ConversationMode",
    "Message",
    "Speaker",
    "conversation_for",
    "find_conversation",
    "recent_messages",
    "record_message",
]
