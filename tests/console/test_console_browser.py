"""A patron page and a librarian page side by side in headless Chromium, on the full
stack (engine, actions, gateway): request a librarian, see the place in the queue,
claim, talk both ways while the bot stays silent, close, rate, and the bot is back."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.test_webchat_page import CHROMIUM, CHROMIUM_ARGS
from tests.console.conftest import PASSWORD

pytestmark = [pytest.mark.stack, pytest.mark.browser]


@pytest.fixture
def pages(console_stack) -> Iterator[tuple[Page, Page]]:  # type: ignore[no-untyped-def]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        patron = browser.new_context(locale="en-US").new_page()
        librarian = browser.new_context(locale="en-US").new_page()
        yield patron, librarian
        browser.close()


def sign_in(page: Page, url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{url}/console/login?lang=en")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def user_turns(stack, sender: str) -> int:  # type: ignore[no-untyped-def]
    token = (stack.home / "engine.token").read_text().strip()
    resp = httpx.get(
        f"http://127.0.0.1:{stack.ports['engine']}/conversations/{sender}/tracker",
        params={"token": token},
        timeout=10,
    )
    resp.raise_for_status()
    return sum(1 for e in resp.json()["events"] if e["event"] == "user")


def sender_of_latest_chat(stack) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from kb.console.models import LiveChat

    with stack.db() as session:
        chat = session.scalars(select(LiveChat).order_by(LiveChat.id.desc())).first()
        assert chat is not None
        return chat.conversation.sender_id, chat.id


def test_patron_and_librarian_side_by_side(pages, console_stack) -> None:  # type: ignore[no-untyped-def]
    patron, librarian = pages
    url = console_stack.gateway_url
    sign_in(librarian, url, "li")
    expect(librarian.locator("#desk[data-connected]")).to_be_attached(timeout=15_000)
    librarian.locator("#status").select_option("online")
    expect(librarian.locator("#status")).to_have_value("online")
    librarian.wait_for_timeout(500)

    patron.goto(f"{url}/chat")
    box = patron.get_by_role("textbox")
    box.fill("connect me to a librarian")
    box.press("Enter")
    expect(patron.locator(".msg.bot .text").last).to_contain_text("connecting you", timeout=30_000)
    expect(patron.locator('[data-code="queue"] .text')).to_contain_text("number 1 in the queue")

    claim = librarian.locator("#queue li.queued .claim").first
    expect(claim).to_be_visible(timeout=10_000)
    claim.click()
    expect(patron.locator('[data-code="librarian_joined"] .text')).to_contain_text(
        "李老师", timeout=10_000
    )
    expect(patron.locator('[data-code="queue"]')).to_have_count(1)

    sender, chat_id = sender_of_latest_chat(console_stack)
    turns_before = user_turns(console_stack, sender)
    bot_lines_before = patron.locator(".msg.bot").count()

    # The transcript shows the bot part with intents and confidence.
    expect(librarian.locator("#lines .line.patron .intent").first).to_contain_text("human_handoff")

    librarian.locator("#reply").fill("Hello! <b>How</b> can I help?")
    librarian.locator("#reply").press("Enter")
    expect(patron.locator(".msg.librarian .text").last).to_have_text(
        "Hello! <b>How</b> can I help?", timeout=10_000
    )
    box.fill("what are your opening hours? <img src=x onerror=\"document.title='pwned'\">")
    box.press("Enter")
    expect(librarian.locator("#lines .line.patron .text").last).to_contain_text(
        "what are your opening hours?", timeout=10_000
    )
    assert librarian.title() != "pwned" and patron.title() != "pwned"

    # Canned reply and an internal note.
    librarian.locator("#canned").select_option(label="one_moment")
    expect(librarian.locator("#reply")).to_have_value(
        "One moment please, I'll look that up for you."
    )
    librarian.locator("#reply").press("Enter")
    expect(patron.locator(".msg.librarian .text").last).to_have_text(
        "One moment please, I'll look that up for you.", timeout=10_000
    )
    librarian.locator("#note").fill("asked about hours")
    librarian.get_by_role("button", name="Add note").click()
    expect(librarian.locator("#notes li")).to_contain_text(["asked about hours"])

    # The bot said nothing and the engine received nothing while the librarian owned the chat.
    patron.wait_for_timeout(1000)
    assert patron.locator(".msg.bot").count() == bot_lines_before
    assert user_turns(console_stack, sender) == turns_before

    librarian.get_by_role("button", name="Close chat").click()
    rating = patron.locator('[data-code="ask_rating"]')
    expect(rating).to_be_visible(timeout=10_000)
    rating.get_by_role("button", name="5").click()
    expect(patron.locator(".msg.system .text").last).to_contain_text("comment", timeout=10_000)
    box.fill("Quick and kind")
    box.press("Enter")
    expect(patron.locator(".msg.system .text").last).to_contain_text("feedback", timeout=10_000)

    # The bot is back.
    box.fill("hello")
    box.press("Enter")
    expect(patron.locator(".msg.bot .text").last).to_contain_text("Hello", timeout=30_000)
    assert user_turns(console_stack, sender) > turns_before

    from kb.console.models import LiveChat

    with console_stack.db() as session:
        chat = session.get(LiveChat, chat_id)
        assert chat is not None and chat.rating == 5 and chat.comment == "Quick and kind"
        assert chat.first_reply_at is not None and chat.closed_at is not None


def test_console_switches_language_and_metrics_render(pages, console_stack) -> None:  # type: ignore[no-untyped-def]
    _, librarian = pages
    url = console_stack.gateway_url
    sign_in(librarian, url, "zhao")
    librarian.goto(f"{url}/console/metrics?lang=zh")
    expect(librarian.locator("h1")).to_have_text("统计")
    expect(librarian.locator("#per-librarian")).to_be_visible()
    librarian.goto(f"{url}/console/metrics?lang=en")
    expect(librarian.locator("h1")).to_have_text("Metrics")
    with librarian.expect_download() as dl:
        librarian.get_by_role("link", name="Export CSV").click()
    assert dl.value.suggested_filename.endswith(".csv")


def test_two_misunderstandings_hand_over_and_bot_leaves_the_queue(pages, console_stack) -> None:  # type: ignore[no-untyped-def]
    patron, librarian = pages
    url = console_stack.gateway_url
    sign_in(librarian, url, "wang")
    expect(librarian.locator("#desk[data-connected]")).to_be_attached(timeout=15_000)
    librarian.locator("#status").select_option("online")
    librarian.wait_for_timeout(500)

    patron.goto(f"{url}/chat")
    box = patron.get_by_role("textbox")
    for gibberish in ("qwzx plmo vbnq", "zzkq wpxv jjht"):
        box.fill(gibberish)
        box.press("Enter")
        patron.wait_for_timeout(300)
        expect(patron.locator(".msg.bot").last).to_be_visible(timeout=30_000)
    expect(patron.locator('[data-code="queue"] .text')).to_contain_text(
        "in the queue", timeout=30_000
    )
    expect(librarian.locator("#queue li.queued")).not_to_have_count(0, timeout=10_000)

    box.fill("bot")
    box.press("Enter")
    expect(patron.locator(".msg.system .text").last).to_contain_text(
        "left the queue", timeout=10_000
    )
    expect(librarian.locator("#queue li.queued")).to_have_count(0, timeout=10_000)
    librarian.locator("#status").select_option("offline")
