"""The gateway takes the PIN: the engine hears only the outcome, the transcript keeps
``[PIN hidden]``, and the verified session serves the action server's account calls.
A fake engine records what it is sent; the ILS is the SIP2 fixture server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.db import Database
from bot.engine_client import EngineReply, EngineUnavailable
from bot.metrics import Metrics
from bot.router import Router
from bot.services.ils import IlsDesk, NotVerified
from kb.conversations import Conversation, Message, Speaker
from kb.db import session_scope
from kb.ils.prompts import expect_pin
from kb.questions.models import ReferenceQuestion
from kb.settings import get_settings

PIN = "7Q3z9K"


class FakeEngine:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.down = False

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> EngineReply:
        if self.down:
            raise EngineUnavailable("engine is down")
        self.sent.append(text)
        return EngineReply(messages=[{"text": "ok"}], parse={"intent": "x", "confidence": 0.9})

    async def close(self) -> None:
        pass


@pytest.fixture
async def gateway(ils_settings: None, db_url: str) -> AsyncIterator[tuple[Router, FakeEngine]]:
    settings = get_settings().model_copy(update={"database_url": db_url})
    engine = FakeEngine()
    router = Router(settings, Database(db_url), engine, Metrics())  # type: ignore[arg-type]
    router.ils = IlsDesk(settings)
    yield router, engine
    await router.ils.close()
    await router.close()


def _prompt(db_url: str, sender: str, purpose: str = "my_account") -> None:
    with session_scope(db_url) as session:
        assert expect_pin(session, sender, "29001", purpose, ttl=timedelta(minutes=5))


def _patron_lines(db_url: str, sender: str) -> list[str]:
    with session_scope(db_url) as session:
        conv = session.scalar(select(Conversation).where(Conversation.sender_id == sender))
        return [m.text for m in conv.messages if m.speaker == Speaker.PATRON]


async def test_the_pin_goes_to_the_ils_only(
    gateway: tuple[Router, FakeEngine], db_url: str
) -> None:
    router, engine = gateway
    first = await router.handle_text("web", "tab-1", "我借了哪些书")
    sender = first.sender_id
    assert not await router.expects_pin("web", "tab-1")
    with pytest.raises(NotVerified):
        await router.ils.account(sender)  # type: ignore[union-attr]

    _prompt(db_url, sender)
    assert await router.expects_pin("web", "tab-1")
    await router.handle_text("web", "tab-1", "wrong-pin")
    assert engine.sent[-1] == '/my_account{"ils_login": "wrong_pin"}'
    assert not await router.expects_pin("web", "tab-1")  # used once

    _prompt(db_url, sender, "renew_loan")
    turn = await router.handle_text("web", "tab-1", PIN)
    assert engine.sent[-1] == '/renew_loan{"ils_login": "verified"}'
    assert turn.language == "zh"  # a PIN does not switch the reply language
    account = await router.ils.account(sender)  # type: ignore[union-attr]
    assert {loan.item_id for loan in account.loans} >= {"B1001", "B1002"}

    _prompt(db_url, sender)
    await router.handle_text("web", "tab-1", "取消")
    assert engine.sent[-1] == '/my_account{"ils_login": "cancelled"}'

    assert not any(PIN in text or "wrong-pin" in text for text in engine.sent)
    lines = _patron_lines(db_url, sender)
    assert lines == ["我借了哪些书", "[PIN hidden]", "[PIN hidden]", "取消"]
    with session_scope(db_url) as session:
        payloads = [str(m.payload) for m in session.scalars(select(Message))]
    assert not any(PIN in p for p in payloads)


async def test_a_button_click_leaves_the_pin_prompt(gateway, db_url: str) -> None:  # type: ignore[no-untyped-def]
    router, engine = gateway
    sender = (await router.handle_text("web", "tab-2", "my account")).sender_id
    _prompt(db_url, sender)
    await router.handle_button("web", "tab-2", "Cancel", '/my_account{"ils_login":"cancelled"}')
    assert not await router.expects_pin("web", "tab-2")
    await router.handle_text("web", "tab-2", "what are your opening hours")
    assert engine.sent[-1] == "what are your opening hours"


async def test_with_the_engine_down_the_kept_question_hides_the_pin(gateway, db_url: str) -> None:  # type: ignore[no-untyped-def]
    router, engine = gateway
    sender = (await router.handle_text("web", "tab-3", "my account")).sender_id
    _prompt(db_url, sender)
    engine.down = True
    await router.handle_text("web", "tab-3", PIN)
    with session_scope(db_url) as session:
        texts = [q.text for q in session.scalars(select(ReferenceQuestion))]
    assert texts == ["[PIN hidden]"]


async def test_a_pin_typed_while_a_chat_rating_is_open_is_no_comment(gateway, db_url: str) -> None:  # type: ignore[no-untyped-def]
    """A librarian closed the chat and asked for a comment; the patron clicks "my
    account" instead and types their PIN: it goes to the ILS, not into the comment."""
    from bot.fanout import Fanout
    from bot.hub import Hub
    from bot.live.desk import Desk
    from kb.console import queue
    from kb.console.models import Feedback, LiveChat
    from kb.staff.service import add_staff

    router, engine = gateway
    settings = router.settings
    router.desk = Desk(settings, router.db, engine, Fanout(Hub(), "", db_url))  # type: ignore[arg-type]
    sender = (await router.handle_text("web", "tab-4", "my account")).sender_id
    with session_scope(db_url) as session:
        conv = session.scalar(select(Conversation).where(Conversation.sender_id == sender))
        librarian = add_staff(session, "li", library_code=None).member
        chat = queue.request_chat(session, conv, "intent")
        queue.claim(session, chat.id, librarian, settings=settings)
        queue.close(session, chat.id, librarian)
        chat.feedback = Feedback.COMMENT  # they rated; the comment is asked for
        chat_id = chat.id
    _prompt(db_url, sender)
    await router.handle_text("web", "tab-4", PIN)
    assert engine.sent[-1] == '/my_account{"ils_login": "verified"}'
    with session_scope(db_url) as session:
        chat = session.get(LiveChat, chat_id)
        assert chat is not None and chat.comment is None
