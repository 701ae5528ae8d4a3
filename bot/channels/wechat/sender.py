"""WeChat as an outbound channel: pushes (librarian replies, notices, alerts) go out
through the customer-service message API; its errors become the worker's outcomes."""

from __future__ import annotations

from bot.channels.wechat.customer_service import (
    CustomerServiceApi,
    OutsideReplyWindow,
    PatronUnreachable,
    WeChatApiError,
    WeChatConfigError,
    WeChatTransientError,
)
from bot.outbound import Outgoing, SendRejected, SendRetry, SendUnreachable
from bot.outbound.render import with_links

CHANNEL = "wechat"


class WeChatSender:
    channel = CHANNEL
    idempotent = False  # the customer-service API has no idempotency key
    # The API renders buttons as numbered lines itself, the same way as passive replies,
    # so that a patron answering "2" picks the second button on either path.
    supports_buttons = True

    def __init__(self, api: CustomerServiceApi) -> None:
        self.api = api

    def live(self, address: str) -> bool:
        return True  # WeChat tells us only when we try (45015, unfollowed)

    async def send(self, message: Outgoing) -> str | None:
        try:
            await self.api.send_text(
                message.address,
                with_links(message.text, message.links),
                message.buttons,
                message.language,
            )
        except OutsideReplyWindow as exc:
            # The patron has not written for 48 hours: kept for staff, not resent blindly.
            raise SendRejected(f"WeChat 45015, outside the 48-hour window: {exc}") from exc
        except PatronUnreachable as exc:
            raise SendUnreachable(f"WeChat: {exc}") from exc
        except (WeChatTransientError, WeChatConfigError) as exc:
            raise SendRetry(f"WeChat: {exc}") from exc
        except WeChatApiError as exc:
            raise SendRejected(f"WeChat: {exc}") from exc
        return None

    async def close(self) -> None:
        return None  # the API client belongs to the WeChat channel
