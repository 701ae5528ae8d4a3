"""Replies that missed WeChat's 5-second window, sent through the customer-service API.

The reply is first written to the outbound queue (kb/outbound), claimed by this
process (status "sending" with a lease), so it survives a crash and the outbound
worker cannot send it a second time meanwhile. Then it is sent:
  sent                      -> "sent"
  45015 (48-hour window)    -> "dead" with the reason: kept for staff
  unsubscribed/unknown user -> "dead", and the WeChat identity marked unreachable
  transient trouble         -> back to "queued" with a delay, for the outbound worker
  configuration errors      -> "dead" with the reason (an administrator must act)
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from bot.channels.wechat.customer_service import CustomerServiceApi
from bot.channels.wechat.errors import (
    OutsideReplyWindow,
    PatronUnreachable,
    WeChatApiError,
    WeChatTransientError,
)
from bot.db import Database
from kb.db import utcnow
from kb.outbound import OutboundMessage, OutboundStatus, enqueue
from kb.patrons import identity_for

log = logging.getLogger("refdesk.wechat")
CHANNEL = "wechat"
LEASE = timedelta(minutes=2)
RETRY_AFTER = timedelta(seconds=30)


async def send_later(
    db: Database, api: CustomerServiceApi, openid: str, text: str, dedupe_key: str
) -> OutboundStatus:
    message_id = await db.run(_claim, openid, text, dedupe_key)
    if message_id is None:
        return OutboundStatus.SENT  # already handled (a retry of the same delivery)
    try:
        await api.send_text(openid, text)
    except OutsideReplyWindow as exc:
        log.warning("reply kept for staff: outside the 48-hour window (%s)", exc.errmsg)
        return await db.run(_finish, message_id, OutboundStatus.DEAD, f"wechat {exc}")
    except PatronUnreachable as exc:
        await db.run(_unreachable, openid)
        return await db.run(_finish, message_id, OutboundStatus.DEAD, f"wechat {exc}")
    except WeChatTransientError as exc:
        log.info("reply will be retried by the outbound worker: %s", exc)
        return await db.run(_finish, message_id, OutboundStatus.QUEUED, f"wechat {exc}")
    except WeChatApiError as exc:
        log.error("WeChat refused a reply: %s", exc)
        return await db.run(_finish, message_id, OutboundStatus.DEAD, f"wechat {exc}")
    return await db.run(_finish, message_id, OutboundStatus.SENT, None)


def _claim(session: Session, openid: str, text: str, dedupe_key: str) -> str | None:
    identity = identity_for(session, CHANNEL, openid)
    msg = enqueue(
        session, identity.patron_id, text, kind="reply", channel=CHANNEL, dedupe_key=dedupe_key
    )
    if msg.status != OutboundStatus.QUEUED or msg.attempts:
        return None
    msg.status = OutboundStatus.SENDING
    msg.lease_until = utcnow() + LEASE
    session.flush()
    return msg.id


def _finish(
    session: Session, message_id: str, status: OutboundStatus, error: str | None
) -> OutboundStatus:
    msg = session.get(OutboundMessage, message_id)
    assert msg is not None
    msg.status = status
    msg.attempts += 1
    msg.lease_until = None
    msg.last_error = error
    if status == OutboundStatus.SENT:
        msg.sent_at = utcnow()
        msg.sent_channel = CHANNEL
    elif status == OutboundStatus.QUEUED:
        msg.not_before = utcnow() + RETRY_AFTER
    return status


def _unreachable(session: Session, openid: str) -> None:
    identity_for(session, CHANNEL, openid).reachable = False
