"""Imports every model so ``Base.metadata`` knows the whole schema (Alembic, tests)."""

from kb.catalog.models import (
    CatalogWord,
    HarvestState,
    Holding,
    Library,
    Record,
    RecordIdentifier,
)
from kb.console.models import CannedReply, ChatNote, ConsoleSession, LiveChat
from kb.conversations.models import Conversation, Message
from kb.delivery.drafts import RequestDraftRecord
from kb.delivery.models import (
    DeliveryEvent,
    DeliveryRequest,
    RotaEntry,
    SuppliedFile,
    TicketCounter,
)
from kb.faq.models import FaqAnswer
from kb.ils.models import IlsAccountEvent
from kb.outbound.models import OutboundMessage
from kb.patrons.models import ChannelIdentity, Patron
from kb.questions.models import ReferenceQuestion
from kb.staff.audit import StaffAccess
from kb.staff.models import StaffMember

__all__ = [
    "CannedReply",
    "ChatNote",
    "ConsoleSession",
    "LiveChat",
    "CatalogWord",
    "ChannelIdentity",
    "Conversation",
    "DeliveryEvent",
    "DeliveryRequest",
    "FaqAnswer",
    "HarvestState",
    "Holding",
    "IlsAccountEvent",
    "Library",
    "Message",
    "OutboundMessage",
    "Patron",
    "Record",
    "RecordIdentifier",
    "ReferenceQuestion",
    "RequestDraftRecord",
    "RotaEntry",
    "StaffAccess",
    "StaffMember",
    "SuppliedFile",
    "TicketCounter",
]
