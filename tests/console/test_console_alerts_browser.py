"""The alerts compose page in headless Chromium against a real gateway: the preview
follows the typing (audience count, both languages, markup as text), an admin
schedules the announcement and sees it listed as scheduled."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.test_webchat_page import CHROMIUM, CHROMIUM_ARGS
from tests.console.conftest import PASSWORD, Gateways
from tests.console.test_console_alerts_http import _setup_audience

pytestmark = [pytest.mark.browser]


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser.new_context(locale="en-US").new_page()
        browser.close()


def test_live_preview_and_scheduling(page: Page, gateways: Gateways) -> None:
    url = gateways.urls[0]
    _setup_audience(gateways)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{url}/console/login?lang=en")
    page.get_by_label("Username").fill("zhao")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{url}/console/alerts?lang=en")

    page.get_by_label("Title (Chinese)").fill("讲座：<img src=x onerror=alert(1)>人工智能")
    page.get_by_label("Title (English)").fill("Talk: AI and the library")
    page.get_by_label("Text (English)").fill("Friday 3 pm, lecture hall.")
    page.get_by_label("Audience topics").fill("人工智能")
    expect(page.locator("#audience")).to_have_text("2", timeout=10_000)
    expect(page.locator("#labels")).to_have_text("Artificial intelligence (TP18)")
    expect(page.locator("#preview-zh")).to_contain_text("<img src=x onerror=alert(1)>人工智能")
    expect(page.locator("#preview-en")).to_contain_text("Friday 3 pm, lecture hall.")
    assert page.locator("#preview img").count() == 0  # shown as text

    page.get_by_label("Audience topics").fill("TP18, 宋史")
    expect(page.locator("#audience")).to_have_text("3", timeout=10_000)
    page.get_by_label("Audience topics").fill("")
    expect(page.locator("#preview-problem")).to_contain_text("topics", timeout=10_000)
    page.get_by_label("Audience topics").fill("人工智能")

    page.get_by_label("Send on").fill("2031-03-01")
    page.get_by_label("at", exact=True).fill("09:30")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_role("button", name="Send / schedule").click()
    expect(page.locator("#sent")).to_contain_text("Announcement saved")
    row = page.locator("#announcements tr[data-id]").first
    expect(row).to_contain_text("Talk: AI and the library")
    expect(row).to_contain_text("2031-03-01T08:30:00+00:00")  # 09:30 in Berlin (CET)
    expect(row.locator(".state")).to_have_text("scheduled")
    assert not [e for e in errors if "Content Security Policy" in e], errors
