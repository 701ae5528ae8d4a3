"""Webhook deliveries already seen, so a channel's retries are handled once."""

from kb.inbound.models import SeenDelivery
from kb.inbound.service import claim_delivery, purge_seen

__all__ = ["SeenDelivery", "claim_delivery", "purge_seen"]
