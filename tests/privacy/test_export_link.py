"""The data-export link over real HTTP, against a running gateway: once, then 410;
a changed link 404; an expired one 410; each a bilingual page, never data."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import time_machine

from kb.conversations import Speaker, conversation_for, record_message
from kb.db import session_scope, utcnow
from kb.privacy import export
from tests.support.gateway import gateway_process


def test_export_link_downloads_once_and_explains_bad_links(_isolated_home: Path) -> None:
    home = _isolated_home
    with gateway_process(home) as gw:
        url = f"sqlite:///{home / 'refdesk.db'}"
        with session_scope(url) as session:
            conv = conversation_for(session, "web", "tok-export")
            conv.patron.email = "reader@example.org"
            record_message(session, conv, Speaker.PATRON, "what data do you hold about me")
            _, token = export.issue(session, conv.patron_id, "web", hours=24)
            with time_machine.travel(utcnow() - timedelta(days=2)):
                _, old = export.issue(session, conv.patron_id, "web", hours=24)

        first = httpx.get(f"{gw.url}/privacy/export/{token}")
        assert first.status_code == 200, first.text
        assert first.headers["content-type"].startswith("application/json")
        assert "attachment" in first.headers["content-disposition"]
        data = first.json()
        assert data["patron"]["email"] == "reader@example.org"
        assert data["conversations"][0]["messages"][0]["text"] == "what data do you hold about me"

        again = httpx.get(f"{gw.url}/privacy/export/{token}")
        assert again.status_code == 410
        assert "只能使用一次" in again.text and "works only once" in again.text
        assert "reader@example.org" not in again.text

        changed = httpx.get(f"{gw.url}/privacy/export/{token[:-6]}AAAAAA")
        assert changed.status_code == 404
        assert "链接无效" in changed.text and "not valid" in changed.text

        expired = httpx.get(f"{gw.url}/privacy/export/{old}")
        assert expired.status_code == 410
        assert "已过期" in expired.text and "expired" in expired.text
