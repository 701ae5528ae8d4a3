"""The widget's Privacy button in headless Chromium, with the real engine behind the
chat: the patron opens their privacy page from the chat, grants personalisation, the
consent history says so and the next suggestions in the chat are personalised;
withdrawing turns it off again, on the page, in the history and in the chat."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from kb.conversations import find_conversation
from kb.privacy import consent
from tests.browser.test_webchat_page import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.stack, pytest.mark.browser]

RECOMMEND = "recommend some books on artificial intelligence"


@pytest.fixture
def page(stack):  # type: ignore[no-untyped-def]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(locale="en-US").new_page()
        page.goto(f"{stack.gateway_url}/chat")
        yield page
        browser.close()


def _ask(page: Page, text: str) -> str:
    """Send a message in the widget; the text of the bot's reply that ends the turn."""
    before = page.locator(".msg.bot").count()
    box = page.get_by_role("textbox")
    box.fill(text)
    box.press("Enter")
    expect(page.locator(".msg.bot")).not_to_have_count(before, timeout=30_000)
    expect(page.locator(".status")).to_have_text("", timeout=30_000)  # typing ended
    return "\n".join(page.locator(".msg.bot .text").all_inner_texts()[before:])


def _personalisation(stack, page: Page) -> list[tuple[bool, str]]:  # type: ignore[no-untyped-def]
    token = page.evaluate(
        "() => Object.entries(localStorage).find(([k]) => k.startsWith('refdesk-session:'))[1]"
    )
    with stack.db() as session:
        conv = find_conversation(session, "web", token)
        assert conv is not None
        return [
            (e.granted, e.source)
            for e in consent.history(session, conv.patron_id)
            if e.purpose == consent.PERSONALISATION
        ]


def test_privacy_button_grants_and_withdraws_personalisation(stack, page: Page) -> None:  # type: ignore[no-untyped-def]
    assert "Hello" in _ask(page, "hello")
    with page.expect_popup() as opened:
        page.get_by_role("button", name="Privacy").click()
    panel = opened.value
    panel.wait_for_url("**/privacy/me")  # the one-time token left the address bar
    expect(panel.locator("h1")).to_contain_text("My privacy settings")
    section = panel.locator('section[data-purpose="personalisation"]')
    expect(section.locator(".state")).to_contain_text("Not granted")
    expect(panel.locator('input[type="checkbox"]:checked')).to_have_count(0)  # nothing pre-ticked

    section.get_by_role("button", name="Grant · 同意").click()
    expect(section.locator(".state")).to_contain_text("Granted", timeout=15_000)
    expect(section.locator(".since time")).to_be_visible()
    assert _personalisation(stack, page) == [(True, "privacy-page")]
    blended = _ask(page, RECOMMEND)
    assert "Blended with your alert topics and past searches" in blended, blended

    section.get_by_role("button", name="Withdraw · 撤回").click()
    expect(section.locator(".state")).to_contain_text("Not granted", timeout=15_000)
    assert _personalisation(stack, page) == [(True, "privacy-page"), (False, "privacy-page")]
    plain = _ask(page, RECOMMEND)
    assert "your past searches were not used" in plain and "Blended" not in plain, plain
    assert "Yes, use my history" not in plain  # withdrawn: no offer either
