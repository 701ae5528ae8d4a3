"""Imports every model so ``Base.metadata`` knows the whole schema (Alembic, tests)."""

from kb.acquisitions.models import PurchaseSuggestion, PurchaseSupporter
from kb.alerts.models import (
    AlertClick,
    AlertCursor,
    AlertDelivery,
    AlertItem,
    AlertLease,
    AlertOpen,
    FeedState,
    Subscriber,
    SubscriptionTopic,
)
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
from kb.feedback.models import Feedback
from kb.ils.models import IlsAccountEvent
from kb.ils.prompts import PinPrompt
from kb.inbound.models import SeenDelivery
from kb.outbound.models import OutboundMessage
from kb.patrons.link_models import LinkCode, LinkFailure
from kb.patrons.models import ChannelIdentity, Patron
from kb.personalisation.models import PastSearch
from kb.privacy.models import ConsentEvent, DataExport, Erasure, RetentionRun
from kb.questions.models import ReferenceQuestion
from kb.staff.audit import StaffAccess
from kb.staff.models import StaffMember
from kb.subjects.models import SubjectLibrarian

__all__ = [
    "AlertClick",
    "AlertCursor",
    "AlertDelivery",
    "AlertItem",
    "AlertLease",
    "AlertOpen",
    "ConsentEvent",
    "PastSearch",
    "DataExport",
    "Erasure",
    "RetentionRun",
    "FeedState",
    "Subscriber",
    "SubscriptionTopic",
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
    "Feedback",
    "HarvestState",
    "Holding",
    "IlsAccountEvent",
    "Library",
    "LinkCode",
    "LinkFailure",
    "Message",
    "OutboundMessage",
    "Patron",
    "PinPrompt",
    "PurchaseSuggestion",
    "PurchaseSupporter",
    "Record",
    "RecordIdentifier",
    "ReferenceQuestion",
    "RequestDraftRecord",
    "RotaEntry",
    "SeenDelivery",
    "StaffAccess",
    "StaffMember",
    "SubjectLibrarian",
    "SuppliedFile",
    "TicketCounter",
]
