"""Department queues on the full stack (engine, actions, gateway): a librarian transfers
a chat to a department in the console and a librarian of that department, seeing it
flagged, claims it while the bot stays silent (headless Chromium, patron and two
librarian pages side by side); and a patron asking the real engine for a subject
librarian whose department has someone online lands in that department's queue."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import select

from tests.browser.test_webchat_page import CHROMIUM, CHROMIUM_ARGS
from tests.console.conftest import Librarian
from tests.console.test_console_browser import sender_of_latest_chat, sign_in, user_turns
from tests.support.chat import ChatClient, texts

pytestmark = [pytest.mark.stack]

SUBJECTS = "学科服务部"  # the bundled chemistry librarian's department


@pytest.fixture
def departments(console_stack) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """li works at Reference, wang in Subject Services (for this test only)."""
    from kb.staff.models import StaffMember

    def put(values: dict[str, str | None]) -> None:
        with console_stack.db() as session:
            for member in session.scalars(select(StaffMember)):
                if member.username in values:
                    member.department = values[member.username]

    put({"li": "Reference", "wang": SUBJECTS})
    yield
    put({"li": None, "wang": None})


@pytest.fixture
def pages(console_stack) -> Iterator[tuple[Page, Page, Page]]:  # type: ignore[no-untyped-def]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield tuple(browser.new_context(locale="en-US").new_page() for _ in range(3))  # type: ignore[misc]
        browser.close()


def go_online(page: Page, url: str, username: str) -> None:
    sign_in(page, url, username)
    expect(page.locator("#desk[data-connected]")).to_be_attached(timeout=15_000)
    page.locator("#status").select_option("online")
    expect(page.locator("#status")).to_have_value("online")
    page.wait_for_timeout(500)


@pytest.mark.browser
def test_transfer_to_a_department_and_its_librarian_claims(
    pages, console_stack, departments
) -> None:  # type: ignore[no-untyped-def]
    patron, li, wang = pages
    url = console_stack.gateway_url
    go_online(li, url, "li")
    go_online(wang, url, "wang")

    patron.goto(f"{url}/chat")
    box = patron.get_by_role("textbox")
    box.fill("connect me to a librarian")
    box.press("Enter")
    expect(patron.locator('[data-code="queue"] .text')).to_contain_text(
        "in the queue", timeout=30_000
    )
    li.locator("#queue li.queued .claim").first.click()
    expect(patron.locator('[data-code="librarian_joined"] .text')).to_contain_text(
        "李老师", timeout=10_000
    )
    sender, chat_id = sender_of_latest_chat(console_stack)
    turns = user_turns(console_stack, sender)
    bot_lines = patron.locator(".msg.bot").count()

    # The transfer list shows each department with how many of it are online.
    option = li.locator("#transfer-departments option", has_text=SUBJECTS)
    expect(option).to_have_text(f"{SUBJECTS} (1 of 1 online)", timeout=10_000)
    li.locator("#transfer-to").select_option(f"department:{SUBJECTS}")
    li.get_by_role("button", name="Transfer").click()
    expect(patron.locator('[data-code="transferred"] .text')).to_have_text(
        f"The librarian is transferring your chat to {SUBJECTS}; a librarian there will join "
        "you shortly.",
        timeout=10_000,
    )

    # wang's department: flagged, first, and kept for it; li cannot take it back.
    flagged = wang.locator("#queue li.queued.for-my-department")
    expect(flagged).to_have_count(1, timeout=10_000)
    expect(flagged.locator(".dept")).to_contain_text(SUBJECTS)
    expect(flagged.locator(".reserved")).to_contain_text("only this department may claim")
    expect(li.locator("#queue li.queued.for-my-department")).to_have_count(0)
    li.locator(f'#queue li.queued[data-chat="{chat_id}"] .claim').click()
    expect(li.locator("#notice")).to_contain_text(f"waits for {SUBJECTS}", timeout=10_000)
    wang.locator("#queue-filter").select_option("mine")
    expect(wang.locator("#queue li.queued")).to_have_count(1)

    # The patron writes while waiting for the department: nobody but a librarian sees it.
    box.fill("it is about a chemistry database")
    box.press("Enter")
    patron.wait_for_timeout(1500)

    flagged.locator(".claim").click()
    expect(patron.locator('[data-code="librarian_joined"] .text').last).to_contain_text(
        "Wang Fang", timeout=10_000
    )
    expect(wang.locator("#lines .line.patron .text").last).to_have_text(
        "it is about a chemistry database", timeout=10_000
    )
    wang.locator("#reply").fill("Hello, Subject Services here.")
    wang.locator("#reply").press("Enter")
    expect(patron.locator(".msg.librarian .text").last).to_have_text(
        "Hello, Subject Services here.", timeout=10_000
    )

    # The bot said nothing and the engine heard nothing from the claim to here.
    assert patron.locator(".msg.bot").count() == bot_lines
    assert user_turns(console_stack, sender) == turns

    wang.get_by_role("button", name="Close chat").click()
    expect(patron.locator('[data-code="ask_rating"]')).to_be_visible(timeout=10_000)
    from kb.console.models import LiveChat

    with console_stack.db() as session:
        chat = session.get(LiveChat, chat_id)
        assert chat is not None and chat.department == SUBJECTS and chat.transfers == 1
        assert chat.staff is not None and chat.staff.username == "wang"
    for page in (li, wang):
        page.locator("#status").select_option("offline")
        page.wait_for_timeout(300)


def buttons(replies: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [b for r in replies for b in r.get("buttons", [])]


async def test_subject_librarian_hands_over_to_the_department_queue(
    console_stack, departments
) -> None:  # type: ignore[no-untyped-def]
    from kb.console.models import ChatStatus, LiveChat
    from kb.conversations import find_conversation

    wang = Librarian(console_stack.gateway_url, "wang")
    chat = await ChatClient(console_stack.ws_url).connect()
    try:
        # Nobody of the chemistry librarian's department online: the general button.
        asked = await chat.say("化学的学科馆员是谁")
        assert "张敏" in texts(asked)
        assert [b["payload"] for b in buttons(asked)] == ["/human_handoff"]

        assert wang.post("/status", {"status": "online"}).status_code == 200
        asked = await chat.say("化学的学科馆员是谁")
        assert f"{SUBJECTS}现在有馆员在线" in texts(asked)
        button = buttons(asked)[0]
        assert button["title"] == f"联系{SUBJECTS}"
        joined = await chat.click(button)
        assert f"正在为您联系{SUBJECTS}的馆员" in texts(joined), texts(joined)

        with console_stack.db() as session:
            conv = find_conversation(session, "web", chat.session)
            assert conv is not None
            live = session.scalars(
                select(LiveChat).where(LiveChat.conversation_id == conv.id)
            ).one()
            assert live.status == ChatStatus.QUEUED and live.department == SUBJECTS
            assert live.trigger == "offer"
        queued = wang.get("/queue?department=mine").json()["chats"]
        assert [c["id"] for c in queued] == [live.id] and queued[0]["reserved"]
        await chat.say("机器人")  # the patron may still leave the queue
        assert live.id not in [c["id"] for c in wang.get("/queue").json()["chats"]]
    finally:
        wang.post("/status", {"status": "offline"})
        await chat.close()
