"""A lending library's librarian supplies a copy from the console in headless Chromium,
and the patron, with the web chat open in another browser, gets the download link.
On the way: the patron's ticket in the desk's side panel links to the request page."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.test_webchat_page import CHROMIUM, CHROMIUM_ARGS
from tests.console.conftest import PASSWORD, DeliveryDesk
from tests.kb.delivery.conftest import article_draft

pytestmark = [pytest.mark.browser]
PDF = b"%PDF-1.4 the scanned chapter\n" * 40


def test_librarian_uploads_the_copy_and_the_patron_gets_the_link(
    delivery_desk: DeliveryDesk, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from kb.console.queue import request_chat
    from kb.conversations import conversation_for

    url = delivery_desk.url
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(PDF)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            patron = browser.new_context(locale="en-US").new_page()
            patron.goto(f"{url}/chat")
            patron.wait_for_function(
                "() => localStorage.getItem('refdesk-session:' + location.host)"
            )
            token = patron.evaluate(
                "() => localStorage.getItem('refdesk-session:' + location.host)"
            )
            # The web patron asked for a librarian (as the chat's handoff does) and has a request.
            with delivery_desk.gw.db() as session:
                conv = conversation_for(session, "web", token)
                request_chat(session, conv, "intent")
                patron_id = conv.patron_id
            ticket = delivery_desk.open(article_draft(doi="10.1000/browser-1"), patron_id)

            librarian = browser.new_context(locale="en-US").new_page()
            librarian.goto(f"{url}/console/login?lang=en")
            librarian.get_by_label("Username").fill("li.pku")
            librarian.get_by_label("Password").fill(PASSWORD)
            librarian.get_by_role("button", name="Sign in").click()
            # The desk: claim the chat; the patron's ticket on the side links to its page.
            expect(librarian.locator("#desk[data-connected]")).to_be_attached(timeout=15_000)
            librarian.locator("#status").select_option("online")
            librarian.locator("#queue li.queued .claim").first.click(timeout=15_000)
            side = librarian.locator("#tickets a", has_text=ticket)
            expect(side).to_have_attribute("href", f"/console/delivery/{ticket}", timeout=10_000)

            librarian.get_by_role("link", name="Document delivery").click()
            expect(librarian.locator("h1")).to_have_text("Delivery queue of PKU")
            librarian.get_by_role("link", name=ticket).click()
            expect(librarian.locator("#dd-status")).to_have_attribute("data-status", "sent")

            supply = librarian.locator('form[data-action="supply"]')
            supply.get_by_label("Upload a file").set_input_files(str(scan))
            supply.get_by_role("button", name="Supply the copy").click()
            expect(librarian.locator("#dd-done")).to_have_text("Done: Supply the copy")
            expect(librarian.locator("#dd-status")).to_have_attribute(
                "data-status", "copy_completed"
            )
            expect(librarian.locator("#dd-files")).to_contain_text("scan.pdf")
            expect(librarian.locator('#dd-trail tr[data-event="supply_copy"]')).to_contain_text(
                "li.pku@PKU"
            )

            # The push reaches the patron's open chat with the expiring download link.
            pushed = patron.locator(".msg.bot", has_text="/delivery/files/")
            expect(pushed).to_have_count(1, timeout=20_000)
            link = re.search(r"http://\S+/delivery/files/[\w.-]+", pushed.inner_text())
            assert link, pushed.inner_text()
            assert httpx.get(link.group(0)).content == PDF
        finally:
            browser.close()
    assert [n["event"] for n in delivery_desk.notices(ticket)] == ["supply_copy"]
