"""The console over HTTP and WebSockets against two real gateway processes."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from websockets.sync.client import connect

from tests.console.conftest import PASSWORD, Gateways, Librarian


class Patron:
    """A web-chat patron on one gateway, queued for a librarian straight in the database."""

    def __init__(self, gw: Gateways, url: str, language: str = "en") -> None:
        self.ws = connect(url.replace("http", "ws") + "/ws/chat")
        self.token = self.recv_type("session")["session"]
        from kb.console.queue import request_chat
        from kb.conversations import conversation_for

        with gw.db() as session:
            conv = conversation_for(session, "web", self.token)
            conv.language = language
            self.conversation_id = conv.id
            self.chat_id = request_chat(session, conv, "intent").id

    def recv_type(self, kind: str, timeout: float = 10, **match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            frame = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items()):
                return frame

    def say(self, text: str) -> None:
        self.ws.send(json.dumps({"type": "message", "text": text}))

    def close(self) -> None:
        self.ws.close()


def console_socket(lib: Librarian):  # type: ignore[no-untyped-def]
    return connect(
        lib.url.replace("http", "ws") + "/console/ws",
        additional_headers={"Cookie": lib.cookie_header()},
    )


def recv_until(ws, pred, timeout: float = 10):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if pred(frame):
            return frame


def go_online(lib: Librarian) -> None:
    assert lib.post("/status", {"status": "online"}).status_code == 200


# --- signing in ------------------------------------------------------------------


def test_login_sets_a_strict_httponly_cookie_and_wrong_passwords_lock_the_login(
    gateways: Gateways,
) -> None:
    url = gateways.urls[0]
    lib = Librarian(url, "li")
    assert lib.login_status == 303
    raw = lib.http.get("/console/login")  # a fresh login form sets its own cookie
    del raw
    resp = httpx.Client(base_url=url).get("/console/login")
    cookie = resp.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie

    assert Librarian(url, "wang", "wrong password 1").login_status == 401
    assert Librarian(url, "wang", "wrong password 2").login_status == 401
    assert Librarian(url, "wang", "wrong password 3").login_status == 429  # locked now
    assert Librarian(url, "wang", PASSWORD).login_status == 429  # even the right one
    assert Librarian(url, "nobody", PASSWORD).login_status == 401

    from kb.console.logins import find_member
    from kb.staff.audit import StaffAccess

    with gateways.db() as session:
        wang = find_member(session, "wang")
        assert wang is not None
        outcomes = session.scalars(
            select(StaffAccess.outcome).where(StaffAccess.staff_id == wang.id)
        ).all()
        assert outcomes == [401, 401, 401, 423]
        wang.locked_until = None  # unlock for the other tests


def test_every_post_needs_the_csrf_token_and_the_same_origin(gateways: Gateways) -> None:
    url = gateways.urls[0]
    lib = Librarian(url, "zhao")
    no_token = lib.http.post("/console/api/status", json={"status": "away"})
    assert no_token.status_code == 403
    wrong = lib.http.post(
        "/console/api/status", json={"status": "away"}, headers={"X-CSRF-Token": "forged"}
    )
    assert wrong.status_code == 403
    other_site = lib.http.post(
        "/console/api/status",
        json={"status": "away"},
        headers={"X-CSRF-Token": lib.csrf, "Origin": "https://evil.example"},
    )
    assert other_site.status_code == 403
    assert lib.post("/status", {"status": "away"}).status_code == 200
    # Forms too: logout and FAQ edits without the token are refused.
    assert lib.http.post("/console/logout", data={}).status_code == 403
    assert lib.http.post("/console/faq/wifi", data={"title_zh": "x"}).status_code == 403
    # The login form: its token must match its cookie.
    fresh = httpx.Client(base_url=url)
    fresh.get("/console/login")
    resp = fresh.post(
        "/console/login", data={"username": "zhao", "password": PASSWORD, "csrf": "x"}
    )
    assert resp.status_code == 403
    # Not signed in: pages go to the login page, the API says 401.
    anon = httpx.Client(base_url=url)
    assert anon.get("/console").status_code == 303
    assert anon.get("/console/api/queue").status_code == 401


# --- the live chat -----------------------------------------------------------------


def test_two_librarians_claim_at_once_and_exactly_one_wins(gateways: Gateways) -> None:
    a, b = Librarian(gateways.urls[0], "li"), Librarian(gateways.urls[1], "wang")
    patron = Patron(gateways, gateways.urls[0])
    results: dict[str, httpx.Response] = {}
    barrier = threading.Barrier(2)

    def claim(name: str, lib: Librarian) -> None:
        barrier.wait()
        results[name] = lib.post(f"/chats/{patron.chat_id}/claim")

    # Both consoles are open, as a librarian's is, so neither chat owner counts as gone.
    with console_socket(a), console_socket(b):
        threads = [threading.Thread(target=claim, args=(n, lib)) for n, lib in (("a", a), ("b", b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in results.values())
        assert codes == [200, 409]
        loser = next(r for r in results.values() if r.status_code == 409).json()
        assert loser["code"] == "taken"
        winner = next(n for n, r in results.items() if r.status_code == 200)
        owner = a if winner == "a" else b
        assert owner.post(f"/chats/{patron.chat_id}/close").status_code == 200
    patron.close()


def test_handoff_across_two_gateways(gateways: Gateways) -> None:
    """Patron on gateway 1, librarian on gateway 2: claim, both directions, transfer,
    close, rating and comment; the transcript view is audited."""
    if not gateways.env["REFDESK_REDIS_URL"]:
        pytest.skip("needs Redis on 127.0.0.1:6379 for two gateways")
    li = Librarian(gateways.urls[1], "li")
    wang = Librarian(gateways.urls[0], "wang")
    go_online(li)
    go_online(wang)
    patron = Patron(gateways, gateways.urls[0])
    with console_socket(li) as li_ws, console_socket(wang) as wang_ws:
        recv_until(li_ws, lambda f: f["type"] == "queue")
        queue = li.get("/queue").json()
        assert patron.chat_id in [c["id"] for c in queue["chats"]]

        assert li.post(f"/chats/{patron.chat_id}/claim").status_code == 200
        joined = patron.recv_type("message", code="librarian_joined")
        assert "李老师" in joined["text"]

        li.post(f"/chats/{patron.chat_id}/typing", {"on": True})
        assert patron.recv_type("typing", speaker="librarian")["on"] is True
        li.post(f"/chats/{patron.chat_id}/reply", {"text": "Hello, how can I help?"})
        got = patron.recv_type("message", speaker="librarian")
        assert got["text"] == "Hello, how can I help?" and got["name"] == "李老师"

        patron.say("I need a 1950s newspaper <b>today</b>")
        line = recv_until(li_ws, lambda f: f["type"] == "line" and f["speaker"] == "patron")
        assert line["text"] == "I need a 1950s newspaper <b>today</b>"
        assert line["chat"] == patron.chat_id

        assert (
            li.post(f"/chats/{patron.chat_id}/notes", {"text": "microfilm room"}).status_code == 200
        )
        assert li.post(f"/chats/{patron.chat_id}/transfer", {"to": "wang"}).status_code == 200
        assert "Wang Fang" in patron.recv_type("message", code="transferred")["text"]
        recv_until(wang_ws, lambda f: f["type"] == "assigned" and f["chat"] == patron.chat_id)
        # The old owner can no longer reply; the new one can.
        assert li.post(f"/chats/{patron.chat_id}/reply", {"text": "x"}).status_code == 409
        wang.post(f"/chats/{patron.chat_id}/reply", {"text": "I'll take it from here."})
        assert patron.recv_type("message", speaker="librarian")["name"] == "Wang Fang"

        assert wang.post(f"/chats/{patron.chat_id}/close").status_code == 200
        ask = patron.recv_type("message", code="ask_rating")
        assert [b["title"] for b in ask["buttons"]] == ["1", "2", "3", "4", "5"]
        patron.say("5")
        assert "comment" in patron.recv_type("message", speaker="system")["text"].lower()
        patron.say("Very helpful, thanks")
        assert "feedback" in patron.recv_type("message", speaker="system")["text"].lower()

    transcript = wang.get(f"/chats/{patron.chat_id}").json()
    assert transcript["rating"] == 5 and transcript["comment"] == "Very helpful, thanks"
    assert [n["text"] for n in transcript["notes"]] == ["microfilm room"]
    speakers = [line["speaker"] for line in transcript["lines"]]
    assert {"patron", "librarian", "system"} <= set(speakers)

    from kb.conversations import Conversation, ConversationMode
    from kb.staff.audit import StaffAccess

    with gateways.db() as session:
        conv = session.get(Conversation, patron.conversation_id)
        assert conv is not None and conv.mode == ConversationMode.BOT
        views = session.scalars(
            select(StaffAccess).where(StaffAccess.ticket == f"CHAT-{patron.chat_id}")
        ).all()
        assert views and all(v.action == "console.transcript" for v in views)
    patron.close()


def test_markup_in_messages_is_text_on_every_console_page(gateways: Gateways) -> None:
    li = Librarian(gateways.urls[0], "li")
    patron = Patron(gateways, gateways.urls[0])
    assert li.post(f"/chats/{patron.chat_id}/claim").status_code == 200
    payload = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    patron.say(payload)
    time.sleep(0.5)
    li.post(f"/chats/{patron.chat_id}/notes", {"text": payload})
    page = li.http.get(f"/console/chats/{patron.chat_id}").text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    found = li.http.get("/console/search", params={"q": "alert(1)"}).text
    assert f"/console/chats/{patron.chat_id}" in found and "<script>alert" not in found
    csp = li.http.get("/console").headers["content-security-policy"]
    assert "script-src 'self'" in csp
    li.post(f"/chats/{patron.chat_id}/close")
    patron.close()


def test_a_disconnected_librarians_chat_returns_to_the_queue(gateways: Gateways) -> None:
    li = Librarian(gateways.urls[0], "li")
    patron = Patron(gateways, gateways.urls[1])
    with console_socket(li):
        go_online(li)
        assert li.post(f"/chats/{patron.chat_id}/claim").status_code == 200
        patron.recv_type("message", code="librarian_joined")
    # The console is gone; after the grace period (3 s here) the chat is queued again.
    notice = patron.recv_type("notice", timeout=15, code="queue")
    assert "disconnected" in notice["text"]
    from kb.console.models import ChatStatus, LiveChat

    with gateways.db() as session:
        chat = session.get(LiveChat, patron.chat_id)
        assert chat is not None and chat.status == ChatStatus.QUEUED and chat.requeues == 1
    patron.say("bot")  # unclaimed again: the patron may go back to the bot
    assert "left the queue" in patron.recv_type("message", speaker="system")["text"]
    patron.close()


def test_a_chat_transferred_to_a_department_nobody_is_left_in_gets_the_bot_back(
    gateways: Gateways,
) -> None:
    from kb.staff.models import StaffMember

    with gateways.db() as session:
        for member in session.scalars(select(StaffMember)):
            member.department = "Special Collections" if member.username == "wang" else None
    li, wang = Librarian(gateways.urls[0], "li"), Librarian(gateways.urls[1], "wang")
    go_online(li)
    go_online(wang)
    patron = Patron(gateways, gateways.urls[1])
    try:
        assert li.post(f"/chats/{patron.chat_id}/claim").status_code == 200
        patron.recv_type("message", code="librarian_joined")
        moved = li.post(f"/chats/{patron.chat_id}/transfer", {"department": "Special Collections"})
        assert moved.status_code == 200, moved.text
        patron.recv_type("message", code="transferred")
        for lib in (li, wang):  # the day ends before anyone from the department takes it
            assert lib.post("/status", {"status": "offline"}).status_code == 200
        told = patron.recv_type("message", timeout=15, code="queue")
        assert told["text"].startswith("No librarian is online at the moment")
        patron.say("bot")  # they may leave the queue now, like any waiting patron
        assert "left the queue" in patron.recv_type("message", speaker="system")["text"]
    finally:
        patron.close()
        with gateways.db() as session:
            for member in session.scalars(select(StaffMember)):
                member.department = None


def test_canned_replies_and_faq_are_edited_in_the_console(gateways: Gateways) -> None:
    li, zhao = Librarian(gateways.urls[0], "li"), Librarian(gateways.urls[1], "zhao")
    starters = li.get("/canned").json()
    assert {c["title"] for c in starters} >= {"greeting", "one_moment"}
    form = {
        "csrf": li.csrf,
        "title": "closing_hours",
        "text_zh": "本馆 22:00 闭馆。",
        "text_en": "We close at 22:00.",
    }
    assert li.http.post("/console/canned", data=form).status_code == 303
    added = next(c for c in li.get("/canned").json() if c["title"] == "closing_hours")
    assert added["zh"] == "本馆 22:00 闭馆。"
    form = {**form, "canned_id": str(added["id"]), "text_en": "We close at 10 pm."}
    li.http.post("/console/canned", data=form)
    assert (
        next(c for c in li.get("/canned").json() if c["id"] == added["id"])["en"]
        == "We close at 10 pm."
    )

    faq = {
        "title_zh": "无线网络",
        "title_en": "Wi-Fi",
        "answer_zh": "连接 LIB-WIFI，用读者证登录。",
        "answer_en": "Join LIB-WIFI and sign in with your library card.",
    }
    refused = li.http.post("/console/faq/wifi", data={**faq, "csrf": li.csrf})
    assert refused.status_code == 403  # librarians use the FAQ; admins edit it
    saved = zhao.http.post("/console/faq/wifi", data={**faq, "csrf": zhao.csrf})
    assert saved.status_code == 303
    from kb.faq.service import answer_for

    with gateways.db() as session:
        assert answer_for(session, "wifi", "en") == faq["answer_en"]
    # Metrics: the page for everyone, the CSV for admins.
    assert li.http.get("/console/metrics").status_code == 200
    assert li.http.get("/console/metrics.csv").status_code == 403
    csv = zhao.http.get("/console/metrics.csv?days=7")
    assert csv.status_code == 200 and csv.text.startswith("scope,key,chats")


def test_staff_passwd_sets_the_console_password(gateways: Gateways, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from bot.cli import app

    for key, value in gateways.env.items():
        monkeypatch.setenv(key, value)
    from kb.settings import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    result = runner.invoke(app, ["staff", "add", "sun", "--name", "孙老师"])
    assert result.exit_code == 0, result.output
    short = runner.invoke(app, ["staff", "passwd", "sun", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least" in short.output
    ok = runner.invoke(
        app, ["staff", "passwd", "sun", "--password-stdin"], input="a brand new passphrase\n"
    )
    assert ok.exit_code == 0, ok.output
    get_settings.cache_clear()
    assert Librarian(gateways.urls[0], "sun", "a brand new passphrase").login_status == 303


def test_the_side_panel_shows_the_patrons_alert_topics(gateways: Gateways) -> None:
    from kb.alerts.subscriptions import add_topics
    from kb.alerts.vocabulary import vocabulary
    from kb.console.models import LiveChat

    li = Librarian(gateways.urls[0], "li")
    patron = Patron(gateways, gateways.urls[0])
    empty = li.get(f"/chats/{patron.chat_id}").json()
    assert empty["subscriptions"] == []
    with gateways.db() as session:
        chat = session.get(LiveChat, patron.chat_id)
        assert chat is not None
        add_topics(
            session,
            chat.conversation.patron_id,
            vocabulary().understand("climate change"),
            language="en",
        )
    shown = li.get(f"/chats/{patron.chat_id}").json()["subscriptions"]
    assert len(shown) >= 1 and all(s["frequency"] == "instant" for s in shown)
    assert any("limate" in s["topic"] for s in shown), shown
    patron.close()
