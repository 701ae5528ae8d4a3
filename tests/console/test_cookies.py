"""By default the console's cookies are Secure (only plain-HTTP tests switch that off)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bot.app import create_app
from kb.settings import Settings


def test_console_cookies_are_secure_httponly_strict_by_default(db_url: str) -> None:
    app = create_app(Settings(database_url=db_url))  # type: ignore[call-arg]
    with TestClient(app, base_url="https://desk.example.org") as client:
        resp = client.get("/console/login")
    cookie = resp.headers["set-cookie"].lower()
    for flag in ("secure", "httponly", "samesite=strict", "path=/console"):
        assert flag in cookie
    assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
