"""Links in alerts: one-tap unsubscribe (that topic / everything) and, only for
patrons who consented, tracked links through ``/alerts/r/{token}`` and the e-mail
tracking image ``/alerts/o/{token}``."""

from __future__ import annotations

from kb.alerts import tokens
from kb.settings import get_settings

UNSUBSCRIBE = "alerts-unsubscribe"
CLICK = "alerts-click"
OPEN = "alerts-open"


def base_url() -> str:
    return get_settings().public_url.rstrip("/")


def unsubscribe_url(subscriber_id: int, topic: str | None = None) -> str:
    """topic None = every topic."""
    data: dict[str, object] = {"s": subscriber_id}
    if topic is not None:
        data["t"] = topic
    token = tokens.make(UNSUBSCRIBE, data, days=get_settings().alerts_link_days)
    return f"{base_url()}/alerts/unsubscribe/{token}"


def item_url(
    target: str | None, *, subscriber_id: int, delivery_id: int, topic: str, tracked: bool
) -> str | None:
    """The item's link: straight to the target, or through the click counter when the
    patron consented to engagement tracking."""
    if not target:
        return None
    if not tracked:
        return target
    token = tokens.make(
        CLICK,
        {"s": subscriber_id, "d": delivery_id, "t": topic, "u": target},
        days=get_settings().alerts_link_days,
    )
    return f"{base_url()}/alerts/r/{token}"


def open_image_url(subscriber_id: int, message_id: str) -> str:
    """The 1x1 image an e-mail alert to a consenting patron carries: fetching it counts
    the message as opened."""
    token = tokens.make(
        OPEN, {"s": subscriber_id, "m": message_id}, days=get_settings().alerts_link_days
    )
    return f"{base_url()}/alerts/o/{token}"
