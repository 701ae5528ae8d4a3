"""The web chat page in a real headless Chromium (Debian's package) driven by Playwright."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

pytestmark = [pytest.mark.stack, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
# Without these, Chromium tries Google's services and the closed network refuses them.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def page(stack):  # type: ignore[no-untyped-def]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        page.goto(f"{stack.gateway_url}/chat")
        yield page
        browser.close()


def test_patron_sends_a_message_sees_the_reply_and_clicks_a_button(page) -> None:
    box = page.get_by_role("textbox")
    box.fill("are you a bot?")
    box.press("Enter")
    reply = page.locator(".msg.bot .text").last
    expect(reply).to_contain_text("automated assistant", timeout=30_000)
    page.get_by_role("button", name="Talk to a librarian").click()
    expect(page.locator(".msg.patron .text").last).to_have_text("Talk to a librarian")
    expect(page.locator(".msg.bot .text").last).to_contain_text("librarian", timeout=30_000)


def test_reloading_the_page_keeps_the_conversation(page) -> None:
    box = page.get_by_role("textbox")
    box.fill("hello")
    box.press("Enter")
    expect(page.locator(".msg.bot .text").last).to_contain_text("Hello", timeout=30_000)
    page.reload()
    expect(page.locator(".msg.patron .text").first).to_have_text("hello", timeout=15_000)
    expect(page.locator(".msg.bot").first).to_be_visible()


def test_html_in_messages_is_shown_as_text(page) -> None:
    box = page.get_by_role("textbox")
    box.fill("<img src=x onerror=\"document.title='pwned'\">hello")
    box.press("Enter")
    expect(page.locator(".msg.patron .text").last).to_have_text(
        "<img src=x onerror=\"document.title='pwned'\">hello"
    )
    expect(page.locator(".msg.bot .text").last).to_be_visible(timeout=30_000)
    assert page.title() != "pwned"
