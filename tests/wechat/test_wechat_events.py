"""Follow/unfollow, the custom menu, numbered buttons and messages that are not text."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kb.db import session_scope
from kb.patrons import ChannelIdentity

OPENID = "oEventsPatron00000000000000"


def _identity(db_url):
    with session_scope(db_url) as session:
        rows = session.scalars(select(ChannelIdentity)).all()
        return [(i.channel, i.external_id, i.reachable) for i in rows]


def test_subscribe_welcomes_in_both_languages_and_creates_the_patron(gateway, db_url):
    reply = gateway.simulator().event(OPENID, "subscribe")
    assert "欢迎关注" in reply.text and "Welcome!" in reply.text
    assert _identity(db_url) == [("wechat", OPENID, True)]
    assert gateway.engine.calls == []


def test_unsubscribe_marks_the_identity_unreachable_and_resubscribe_undoes_it(gateway, db_url):
    sim = gateway.simulator()
    sim.event(OPENID, "subscribe")
    gone = sim.event(OPENID, "unsubscribe")
    assert gone.status == 200 and gone.body == b"success"
    assert _identity(db_url) == [("wechat", OPENID, False)]
    # Events have no id: WeChat's retries are told apart by sender and CreateTime.
    back = sim.fields(OPENID, "event", Event="subscribe")
    back["CreateTime"] += 1
    sim.send(back)
    assert _identity(db_url) == [("wechat", OPENID, True)]


def test_menu_click_sends_the_configured_intent(gateway):
    reply = gateway.simulator().event(OPENID, "CLICK", key="LIBRARIAN")
    # A configured menu payload is trusted (it was never "offered" in the chat).
    assert gateway.engine.calls == ["/human_handoff"]
    assert reply.text == "echo: /human_handoff"


def test_unknown_menu_key_gets_a_polite_answer(gateway):
    reply = gateway.simulator().event(OPENID, "CLICK", key="NOPE")
    assert "菜单项暂时不可用" in reply.text and "menu item" in reply.text
    assert gateway.engine.calls == []


def test_link_menu_item_gives_a_code(gateway):
    reply = gateway.simulator().event(OPENID, "CLICK", key="LINK")
    assert "link code" in reply.text.lower() or "绑定码" in reply.text


def test_view_and_location_events_need_no_answer(gateway):
    sim = gateway.simulator()
    assert sim.event(OPENID, "VIEW", key="https://library.example.org").body == b"success"
    assert sim.event(OPENID, "LOCATION").body == b"success"


@pytest.mark.parametrize(
    ("kind", "extra", "zh", "en"),
    [
        ("image", {"PicUrl": "http://mmbiz.example/1.jpg", "MediaId": "m1"}, "图片", "images"),
        ("voice", {"MediaId": "m2", "Format": "amr"}, "语音", "voice messages"),
        ("video", {"MediaId": "m3", "ThumbMediaId": "t3"}, "视频", "videos"),
        (
            "location",
            {"Location_X": "31.2", "Location_Y": "121.5", "Scale": "15", "Label": "上海图书馆"},
            "位置",
            "locations",
        ),
        ("link", {"Title": "a", "Description": "b", "Url": "http://x.example"}, "链接", "links"),
    ],
)
def test_non_text_messages_get_a_polite_bilingual_answer(gateway, kind, extra, zh, en):
    sim = gateway.simulator()
    reply = sim.send(sim.fields(OPENID, kind, **extra))
    assert zh in reply.text and en in reply.text
    assert gateway.engine.calls == []


def test_non_text_answer_follows_the_patrons_language(gateway):
    sim = gateway.simulator()
    sim.text(OPENID, "请问图书馆几点开门")
    reply = sim.send(sim.fields(OPENID, "image", PicUrl="http://x/1.jpg", MediaId="m"))
    assert "图片" in reply.text and "images" not in reply.text


def test_voice_with_speech_recognition_is_read_as_text(gateway):
    sim = gateway.simulator()
    reply = sim.send(sim.fields(OPENID, "voice", MediaId="m", Format="amr", Recognition="你好"))
    assert reply.text == "echo: 你好"


def test_buttons_are_numbered_and_a_number_clicks_them(gateway):
    gateway.engine.replies["help"] = [
        {
            "text": "I can do these:",
            "buttons": [
                {"title": "Search the catalog", "payload": "/search_catalog"},
                {"title": "Talk to a librarian", "payload": "/human_handoff"},
            ],
        }
    ]
    sim = gateway.simulator()
    menu = sim.text(OPENID, "help")
    assert menu.text == (
        "I can do these:\n1. Search the catalog\n2. Talk to a librarian\n"
        "(Reply with a number to choose.)"
    )
    sim.text(OPENID, "2")
    assert gateway.engine.calls[-1] == "/human_handoff"
    # A number when nothing was offered is just text.
    sim.text(OPENID, "7")
    assert gateway.engine.calls[-1] == "7"


def test_typed_intent_syntax_is_not_obeyed(gateway):
    gateway.simulator().text(OPENID, "/human_handoff")
    assert gateway.engine.calls == [" /human_handoff"]


def test_menu_click_keeps_the_patrons_language(gateway, db_url):
    from kb.conversations import Conversation

    sim = gateway.simulator()
    sim.text(OPENID, "你好")
    sim.event(OPENID, "CLICK", key="LIBRARIAN")
    with session_scope(db_url) as session:
        assert session.scalar(select(Conversation.language)) == "zh"
