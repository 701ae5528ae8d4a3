"""The outbound queue: every message refdesk sends to a patron outside a live reply
(ticket updates, librarian replies, alerts) goes through ``enqueue``.

The queue is a database table, so it survives restarts. A dispatcher in the gateway
(``bot/outbound``) claims due messages, renders them for the patron's channel and
sends them. ``dedupe_key`` makes enqueueing idempotent (one alert per subscriber and
item, one notice per ticket event).
"""

from kb.outbound.models import OutboundMessage, OutboundStatus
from kb.outbound.service import enqueue

__all__ = ["OutboundMessage", "OutboundStatus", "enqueue"]
