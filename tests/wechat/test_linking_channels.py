"""Linking a web-chat patron and a WeChat follower into one patron, end to end over
the gateway (WebSocket + webhook), with a scripted engine."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from sqlalchemy import select, text, update

from kb.conversations import Conversation, Message
from kb.db import session_scope, utcnow
from kb.patrons import ChannelIdentity, Patron
from kb.patrons.link_models import LinkCode
from kb.questions import leave_question
from tests.support.chat import ChatClient

OPENID = "oLinkingPatron0000000000000"


def _code(reply_text: str) -> str:
    m = re.search(r"\b(\d{6})\b", reply_text)
    assert m, reply_text
    return m.group(1)


async def _web_chat(gateway) -> ChatClient:
    return await ChatClient(gateway.url.replace("http", "ws") + "/ws/chat").connect()


async def test_code_from_web_chat_typed_in_wechat_links_one_patron(gateway, db_url):
    chat = await _web_chat(gateway)
    try:
        await chat.say("hello")  # the web patron exists, with language en
        replies = await chat.say("link my account")
        assert len(replies) == 1 and "link code" in replies[0]["text"]
        code = _code(replies[0]["text"])
        assert gateway.engine.calls == ["hello"]  # the command never reached the engine

        sim = gateway.simulator(safe=True)
        first = await asyncio.to_thread(sim.text, OPENID, "有《三体》吗")
        assert first.text == "echo: 有《三体》吗"
        with session_scope(db_url) as session:
            conv = session.scalar(select(Conversation).where(Conversation.channel == "wechat"))
            leave_question(session, conv, "有《三体》吗", "no_librarian")

        linked = await asyncio.to_thread(sim.text, OPENID, code)
        assert "绑定成功" in linked.text and "网页咨询" in linked.text
        assert code not in gateway.engine.calls

        with session_scope(db_url) as session:
            patrons = session.scalars(select(Patron)).all()
            assert len(patrons) == 1
            owners = {i.channel: i.patron_id for i in session.scalars(select(ChannelIdentity))}
            assert owners == {"web": patrons[0].id, "wechat": patrons[0].id}
            convs = session.scalars(select(Conversation)).all()
            assert {c.patron_id for c in convs} == {patrons[0].id}
            questions = session.execute(text("SELECT patron_id FROM reference_questions"))
            assert {r[0] for r in questions} == {patrons[0].id}
            # The code is nowhere in the transcripts.
            assert not any(code in m.text for m in session.scalars(select(Message)))

        # The same code a second time is refused. (A bare number would now go to the
        # engine: with no code live, six digits are just text, e.g. a PMID.)
        again = await asyncio.to_thread(
            gateway.simulator().text, "oSomeoneElse00000000000000", f"绑定 {code}"
        )
        assert "无效或已过期" in again.text
    finally:
        await chat.close()


async def test_code_from_wechat_typed_in_web_chat(gateway, db_url):
    sim = gateway.simulator()
    asked = await asyncio.to_thread(sim.text, OPENID, "绑定账号")
    assert "绑定码" in asked.text
    code = _code(asked.text)
    chat = await _web_chat(gateway)
    try:
        replies = await chat.say(f"link {code}")
        assert "linked" in replies[0]["text"] and "WeChat" in replies[0]["text"]
    finally:
        await chat.close()
    with session_scope(db_url) as session:
        assert session.scalar(select(text("count(*)")).select_from(Patron)) == 1


async def test_expired_code_is_refused(gateway, db_url):
    chat = await _web_chat(gateway)
    try:
        code = _code((await chat.say("link my account"))[0]["text"])
    finally:
        await chat.close()
    with session_scope(db_url) as session:
        session.execute(update(LinkCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    reply = await asyncio.to_thread(gateway.simulator().text, OPENID, f"绑定 {code}")
    assert "无效或已过期" in reply.text


async def test_guessing_codes_is_stopped(gateway, db_url):
    chat = await _web_chat(gateway)
    try:
        code = _code((await chat.say("link my account"))[0]["text"])
    finally:
        await chat.close()
    sim = gateway.simulator()
    wrong = [f"{n:06d}" for n in range(100000, 100010) if f"{n:06d}" != code][:5]
    for guess in wrong:
        assert "无效" in (await asyncio.to_thread(sim.text, OPENID, f"绑定 {guess}")).text
    locked = await asyncio.to_thread(sim.text, OPENID, f"绑定 {code}")
    assert "次数太多" in locked.text
    with session_scope(db_url) as session:
        assert session.scalar(select(text("count(*)")).select_from(Patron)) == 2


async def test_a_bare_six_digit_number_is_text_when_nobody_is_linking(gateway):
    reply = await asyncio.to_thread(gateway.simulator().text, OPENID, "123456")
    assert reply.text == "echo: 123456"


async def test_asking_for_too_many_codes(gateway):
    sim = gateway.simulator()
    for _ in range(5):
        assert "绑定码是" in (await asyncio.to_thread(sim.text, OPENID, "绑定账号")).text
    assert "次数较多" in (await asyncio.to_thread(sim.text, OPENID, "绑定账号")).text
