"""The patron's privacy page over real HTTP and the web chat's socket, against a running
gateway: the link comes from the patron's own chat and opens once; the page session
is an HttpOnly, SameSite=Strict cookie; every change needs its CSRF token and a
same-site Origin; grant and withdraw land in the consent history at once; export and
erasure reuse the chat's flows; the pages are bilingual and show no markup."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import httpx
import websockets
from sqlalchemy import select

from kb.alerts.models import AlertClick, Subscriber
from kb.conversations import find_conversation
from kb.db import session_scope
from kb.patrons.models import Patron
from kb.privacy import consent
from tests.support.gateway import gateway_process


async def _socket_link(ws_url: str) -> tuple[str, str]:
    """(session token, privacy link) as the widget's Privacy button gets them."""
    async with websockets.connect(ws_url) as ws:
        first = json.loads(await ws.recv())
        await ws.send(json.dumps({"type": "privacy"}))
        got = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert got["type"] == "privacy", got
    return first["session"], got["url"]


async def _typed(ws_url: str, session: str, text: str) -> list[dict]:  # type: ignore[type-arg]
    async with websockets.connect(f"{ws_url}?session={session}") as ws:
        await ws.recv()  # session (a history follows only when there is one)
        await ws.send(json.dumps({"type": "message", "text": text}))
        frames = []
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if frame["type"] == "typing" and not frame["on"]:
                return frames
            if frame["type"] == "message" and frame.get("speaker") != "patron":
                frames.append(frame)


def _form(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``action`` (the first such form)."""
    form = page[page.index(f'action="{action}"') :]
    form = form[: form.index("</form>")]
    return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form))


def test_the_page_from_the_chat_grants_withdraws_exports_and_erases(
    _isolated_home: Path,
) -> None:
    home = _isolated_home
    db = f"sqlite:///{home / 'refdesk.db'}"
    with gateway_process(home, console_secure_cookies="false") as gw:
        session_token, link = asyncio.run(_socket_link(gw.ws_url))
        assert re.fullmatch(re.escape(gw.url) + r"/privacy/me/[A-Za-z0-9_-]+", link), link
        with session_scope(db) as session:
            conv = find_conversation(session, "web", session_token)
            assert conv is not None
            patron_id = conv.patron_id
            # Clicks counted with an earlier engagement consent: withdrawing deletes them.
            consent.record(session, patron_id, consent.ENGAGEMENT, True, source="chat")
            sub = Subscriber(patron_id=patron_id)
            session.add(sub)
            session.flush()
            session.add(AlertClick(subscriber_id=sub.id, topic="turing", local_hour=9))

        # A browser set to English (it sends the header with every request).
        client = httpx.Client(base_url=gw.url, headers={"Accept-Language": "en-GB,en;q=0.9"})
        # Without the link there is no page, and no session.
        alone = client.get("/privacy/me")
        assert alone.status_code == 401
        assert "请从对话中打开" in alone.text and "open it from the link" in alone.text

        opened = client.get(link.removeprefix(gw.url))
        assert opened.status_code == 303 and opened.headers["location"] == "/privacy/me"
        cookie = opened.headers["set-cookie"].lower()
        for flag in ("httponly", "samesite=strict", "path=/privacy/me", "max-age=3600"):
            assert flag in cookie, cookie
        again = httpx.get(link)
        assert (
            again.status_code == 410 and "只能打开一次" in again.text and "once only" in again.text
        )
        changed = httpx.get(link[:-6] + "AAAAAA")
        assert changed.status_code == 404 and "not valid" in changed.text

        page = client.get("/privacy/me")
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
        text = page.text
        assert text.index("My privacy settings") < text.index("我的隐私设置")  # both, English first
        assert "Personalised reading suggestions" in text and "个性化推荐" in text
        assert "Counting clicks on alert links" in text and "Not granted" in text
        assert " checked" not in text  # nothing pre-ticked
        fields = _form(text, "/privacy/me/consent")
        csrf = fields["csrf"]

        # Changes need the CSRF token and, from a browser, our own Origin.
        grant = {"purpose": "personalisation", "granted": "yes"}
        assert client.post("/privacy/me/consent", data=grant).status_code == 403
        assert (
            client.post("/privacy/me/consent", data={**grant, "csrf": "x" * 64}).status_code == 403
        )
        foreign = client.post(
            "/privacy/me/consent",
            data={**grant, "csrf": csrf},
            headers={"Origin": "https://evil.example"},
        )
        assert foreign.status_code == 403
        assert (
            "请求被拒绝" in foreign.text and "did not come from your privacy page" in foreign.text
        )
        # A page session cannot be made up: a cookie we did not seal is no session.
        forged = httpx.post(
            f"{gw.url}/privacy/me/consent",
            data={**grant, "csrf": csrf},
            cookies={"rd_privacy": "A" * 80},
        )
        assert forged.status_code == 401
        with session_scope(db) as session:
            assert not consent.has_consent(session, patron_id, consent.PERSONALISATION)

        done = client.post("/privacy/me/consent", data={**grant, "csrf": csrf})
        assert done.status_code == 303
        withdraw = {"purpose": "engagement", "granted": "no", "csrf": csrf}
        assert client.post("/privacy/me/consent", data=withdraw).status_code == 303
        with session_scope(db) as session:
            events = consent.history(session, patron_id)
            last = {e.purpose: e for e in events}
            assert (
                last["personalisation"].granted and last["personalisation"].source == "privacy-page"
            )
            assert "alert topics" in (last["personalisation"].wording or "")  # read in English
            assert not last["engagement"].granted
            # Tracking stopped at once: the clicks kept are gone.
            assert session.scalars(select(AlertClick)).all() == []
        shown = client.get("/privacy/me").text
        section = shown[shown.index('data-purpose="personalisation"') :]
        assert "已同意" in section[: section.index("</section>")]

        # The notice is not a switch; markup in a field is refused, never shown.
        bad = client.post(
            "/privacy/me/consent",
            data={"purpose": "<script>alert(1)</script>", "granted": "yes", "csrf": csrf},
        )
        assert bad.status_code == 400 and "<script>" not in bad.text
        assert (
            client.post(
                "/privacy/me/consent", data={"purpose": "processing", "granted": "no", "csrf": csrf}
            ).status_code
            == 400
        )

        # The patron's own chat: "privacy settings" answers with the states and a new link.
        (answer,) = asyncio.run(_typed(gw.ws_url, session_token, "privacy settings"))
        assert "Personalised reading suggestions: granted (since " in answer["text"]
        assert "Counting clicks on alert links: not granted" in answer["text"]
        assert "/privacy/me/" in answer["text"]
        with session_scope(db) as session:
            conv = find_conversation(session, "web", session_token)
            assert conv is not None
            kept = [m.text for m in conv.messages]
            assert kept[0] == "privacy settings" and "[link hidden]" in kept[1]
            assert "/privacy/me/" not in kept[1]

        # Export: the chat's one-time download, with the history just written.
        exported = client.post("/privacy/me/export", data={"csrf": csrf})
        assert exported.status_code == 303
        assert exported.headers["location"].startswith("/privacy/export/")
        data = client.get(exported.headers["location"]).json()
        assert [c["purpose"] for c in data["consents"]][-2:] == ["personalisation", "engagement"]

        # Erasure asks for the tick first, then forgets the patron; the page is gone.
        refused = client.post("/privacy/me/forget", data={"csrf": csrf})
        assert refused.status_code == 400 and "Nothing was erased" in refused.text
        erased = client.post("/privacy/me/forget", data={"csrf": csrf, "confirm": "yes"})
        assert erased.status_code == 200 and "已删除您的数据" in erased.text
        with session_scope(db) as session:
            assert session.get(Patron, patron_id) is None
        assert client.get("/privacy/me").status_code == 401
