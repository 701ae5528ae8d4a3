"""WeChat's retries, replies that miss the 5-second window, and the customer-service API."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from kb.db import session_scope
from kb.outbound import OutboundMessage, OutboundStatus
from tests.fixtures.wechat_client import without_privacy_notice

OPENID = "oRetryPatron000000000000000"


def _outbound(db_url):
    with session_scope(db_url) as session:
        return [
            (m.status, m.last_error or "", m.channel)
            for m in session.scalars(select(OutboundMessage).order_by(OutboundMessage.created_at))
        ]


def _wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_retries_of_a_slow_message_are_answered_once(gateway, monkeypatch):
    # WeChat gives up after `timeout` and asks again; the turn is started once and
    # the answer rides on the retry WeChat is still waiting for.
    gateway.engine.gate = threading.Event()

    def before_try(n):
        if n == 3:
            gateway.engine.gate.set()  # ready while WeChat waits on its last try

    sim = gateway.simulator(timeout=0.5, tries=3, before_try=before_try)
    delivery = sim.text(OPENID, "slow question")
    assert delivery.attempts == 3 and delivery.timeouts == 2
    assert delivery.text == "echo: slow question"
    assert gateway.engine.calls == ["slow question"]
    time.sleep(0.5)
    assert gateway.api.sent == []  # not sent a second time through the API


def test_retries_after_the_answer_was_lost_get_the_same_answer(gateway):
    sim = gateway.simulator()
    fields = sim.fields(OPENID, "text", Content="hello")
    first = sim.send(fields)
    again = sim.send(fields)  # the same MsgId: WeChat never read the first answer
    assert first.text == again.text == "echo: hello"
    assert gateway.engine.calls == ["hello"]


def test_a_repeat_seen_only_in_the_database_is_acknowledged(gateway, wechat_settings):
    from bot.app import create_app
    from kb.settings import get_settings
    from tests.wechat.conftest import FakeEngine, serve

    sim = gateway.simulator()
    fields = sim.fields(OPENID, "text", Content="hello")
    assert sim.send(fields).text == "echo: hello"
    # A second gateway process (or this one after a restart) gets WeChat's retry.
    app = create_app(get_settings())
    engine = FakeEngine()
    app.state.refdesk.router.engine = engine
    url, server = serve(app)
    try:
        sim.url = url + "/webhooks/wechat"
        repeat = sim.send(fields)
        assert repeat.status == 200 and repeat.body == b"success"
        assert engine.calls == []
    finally:
        server.stop()


def test_events_are_deduplicated_by_sender_and_time(gateway):
    sim = gateway.simulator()
    fields = sim.fields(OPENID, "event", Event="subscribe")
    first = sim.send(fields)
    assert "欢迎" in first.text and "Welcome" in first.text
    assert sim.send(fields).text == first.text  # the lost answer again, not a second welcome


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
def test_slow_answer_goes_through_the_customer_service_api(gateway, safe, db_url, monkeypatch):
    gateway.app.state.wechat.config.__dict__["passive_seconds"] = 0.2
    gateway.engine.delay = 0.6
    delivery = gateway.simulator(safe=safe).text(OPENID, "take your time")
    assert delivery.attempts == 1 and delivery.body == b"success"
    sent = gateway.api.wait_for_sent(1)
    assert [(s.touser, without_privacy_notice(s.content)) for s in sent] == [
        (OPENID, "echo: take your time")
    ]
    _wait_for(lambda: _outbound(db_url) == [(OutboundStatus.SENT, "", "wechat")])
    assert gateway.api.token_requests() == 1


def test_all_tries_time_out_and_the_answer_still_arrives_once(gateway, db_url):
    gateway.engine.gate = threading.Event()
    # Each try waits 1 s: the first try's dedupe write must be done before the second
    # arrives, or the second is told "success" at once (on a loaded machine 0.3 s was not).
    delivery = gateway.simulator(timeout=1.0, tries=3).text(OPENID, "very slow")
    assert delivery.attempts == 3 and delivery.status is None  # WeChat gave up
    gateway.engine.gate.set()
    gateway.api.wait_for_sent(1)
    time.sleep(0.3)
    assert [without_privacy_notice(s.content) for s in gateway.api.sent] == ["echo: very slow"]
    assert gateway.engine.calls == ["very slow"]


def test_outside_the_48_hour_window_the_reply_is_kept_for_staff(gateway, db_url):
    gateway.app.state.wechat.config.__dict__["passive_seconds"] = 0.1
    gateway.engine.delay = 0.4
    gateway.api.fail_next(45015)
    assert gateway.simulator().text(OPENID, "late").body == b"success"
    _wait_for(lambda: bool(_outbound(db_url)) and _outbound(db_url)[0][0] == OutboundStatus.DEAD)
    status, error, channel = _outbound(db_url)[0]
    assert "45015" in error and channel == "wechat"
    assert gateway.api.sent == []


def test_transient_errors_leave_the_reply_queued_for_the_worker(gateway, db_url):
    gateway.app.state.wechat.config.__dict__["passive_seconds"] = 0.1
    gateway.engine.delay = 0.4
    gateway.api.fail_next(-1)
    gateway.simulator().text(OPENID, "late")
    _wait_for(lambda: bool(_outbound(db_url)) and _outbound(db_url)[0][0] == OutboundStatus.QUEUED)
    assert "-1" in _outbound(db_url)[0][1]


def test_long_answers_are_sent_in_pieces(gateway):
    long = "馆藏信息 " * 400  # well over WeChat's 2048 bytes
    gateway.engine.replies["long please"] = [{"text": long}]
    delivery = gateway.simulator().text(OPENID, "long please")
    assert delivery.body == b"success"
    sent = gateway.api.wait_for_sent(3)  # 5,200 bytes in pieces of at most 2,000
    time.sleep(0.2)
    assert len(gateway.api.sent) == 3
    assert all(len(s.content.encode()) <= 2048 for s in sent)
    answer = without_privacy_notice("".join(s.content for s in sent)) or ""
    assert answer.replace("\n", "").replace(" ", "") == long.replace(" ", "")
