"""What refdesk answers to one message or event from a WeChat follower."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.wechat import texts
from bot.replies import Button, Reply
from bot.router import Router
from kb.conversations import Message, Speaker, find_conversation
from kb.patrons import identity_for

log = logging.getLogger("refdesk.wechat")
CHANNEL = "wechat"
_CHOICE = re.compile(r"^\s*([1-9])\s*[.。]?\s*$")
NOT_TEXT = {"image", "voice", "video", "shortvideo", "location", "link", "file"}


@dataclass
class Answer:
    replies: list[Reply] = field(default_factory=list)
    language: str | None = None


async def answer(router: Router, menu: dict[str, str], fields: dict[str, str]) -> Answer:
    openid = fields["FromUserName"]
    kind = fields.get("MsgType", "")
    db = router.db
    if kind == "event":
        return await _event(router, menu, openid, fields)
    language = await db.run(_seen, openid, True)
    if kind == "text":
        return await _text(router, openid, fields.get("Content", ""))
    if kind == "voice" and fields.get("Recognition", "").strip():
        # Speech recognition is switched on for the account: WeChat sent the words too.
        return await _text(router, openid, fields["Recognition"])
    return Answer([_system(texts.not_text(kind, language), "not_text")], language)


async def _text(router: Router, openid: str, content: str) -> Answer:
    choice = _CHOICE.match(content)
    if choice:
        button = await router.db.run(_offered_button, openid, int(choice.group(1)))
        if button is not None:
            turn = await router.handle_button(CHANNEL, openid, button.title, button.payload)
            return Answer(turn.replies, turn.language)
    turn = await router.handle_text(CHANNEL, openid, content)
    return Answer(turn.replies, turn.language)


async def _event(
    router: Router, menu: dict[str, str], openid: str, fields: dict[str, str]
) -> Answer:
    event = fields.get("Event", "").lower()
    if event == "subscribe":
        language = await router.db.run(_seen, openid, True)
        return Answer([_system(texts.text("welcome", language), "welcome")], language)
    if event == "unsubscribe":
        # Nothing can reach them any more: the outbound worker must pick another channel.
        await router.db.run(_seen, openid, False)
        return Answer()
    if event == "click":
        language = await router.db.run(_seen, openid, True)
        payload = menu.get(fields.get("EventKey", ""))
        if payload is None:
            log.info("unknown menu key %r", fields.get("EventKey"))
            return Answer([_system(texts.text("menu_unknown", language), "menu_unknown")], language)
        if payload == "link":
            turn = await router.handle_text(
                CHANNEL, openid, "绑定账号" if language == "zh" else "link my account"
            )
        else:
            title = f"☰ {fields.get('EventKey', '')}"  # the transcript shows a menu click
            turn = await router.handle_menu(CHANNEL, openid, title, payload)
        return Answer(turn.replies, turn.language)
    # VIEW (a menu link opened), LOCATION reports, SCAN, template-message receipts...:
    # nothing to say.
    await router.db.run(_seen, openid, None)
    return Answer()


def _system(text: str, code: str) -> Reply:
    return Reply(text=text, speaker="system", kind="notice", code=code)


# --- database steps ------------------------------------------------------------


def _seen(session: Session, openid: str, reachable: bool | None) -> str | None:
    """Note that the follower is there (or gone); returns their reply language."""
    identity = identity_for(session, CHANNEL, openid)
    if reachable is not None:
        identity.reachable = reachable
    conv = find_conversation(session, CHANNEL, openid)
    return (conv.language if conv else None) or identity.patron.language


def _offered_button(session: Session, openid: str, number: int) -> Button | None:
    """The button ``number`` of the assistant's last turn, if it offered buttons."""
    conv = find_conversation(session, CHANNEL, openid)
    if conv is None:
        return None
    recent = session.scalars(
        select(Message)
        .where(Message.conversation_id == conv.id)
        .order_by(Message.id.desc())
        .limit(10)
    ).all()
    for m in recent:
        if m.speaker == Speaker.PATRON:
            break
        buttons = (m.payload or {}).get("buttons") or []
        if buttons:
            if number <= len(buttons):
                b = buttons[number - 1]
                return Button(title=b["title"], payload=b["payload"])
            return None
    return None
