"""Every route of the gateway refuses a caller without credentials, unless it is on
the allow-list below with the reason it is open. A new route that answers strangers
fails this test until it is authenticated or listed here with a reason."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

# (method, path) -> why it answers without credentials.
OPEN: dict[tuple[str, str], str] = {
    ("GET", "/"): "redirect to the patron web chat",
    ("GET", "/chat"): "patron web chat page (patrons are anonymous)",
    ("GET", "/widget.js"): "patron web chat widget script",
    ("WS", "/ws/chat"): "patron web chat socket (patrons are anonymous; abuse limits apply)",
    ("GET", "/livez"): "liveness probe, says only 'ok'",
    ("GET", "/healthz"): "health probe for the supervisor and load balancer; no data",
    ("GET", "/metrics"): "Prometheus scrape: counters only, no patron data",
    ("GET", "/openapi.json"): "API description (internal routes are excluded); no data",
    ("GET", "/docs"): "API documentation page",
    ("GET", "/docs/oauth2-redirect"): "part of the API documentation page",
    ("GET", "/redoc"): "API documentation page",
    ("GET", "/openurl"): "patron landing page for link resolvers (OpenURL)",
    ("GET", "/api/delivery/drafts/{token}"): "the signed, expiring token is the key",
    ("GET", "/delivery/files/{token}"): "the signed, expiring token is the key",
    ("GET", "/alerts/unsubscribe/{token}"): "one-tap unsubscribe: the signed token is the key",
    ("POST", "/alerts/unsubscribe/{token}"): "one-tap unsubscribe: the signed token is the key",
    ("GET", "/alerts/r/{token}"): "alert link redirect: the signed token is the key",
    ("GET", "/alerts/o/{token}"): "e-mail alert open image: the signed token is the key; "
    "a 1x1 GIF for any token",
    (
        "GET",
        "/privacy/export/{token}",
    ): "a patron's data export: the one-time, expiring token is the key",
    (
        "GET",
        "/privacy/me/{token}",
    ): "a patron's privacy page link: the one-time, expiring token is the key",
    ("GET", "/console/login"): "the sign-in page itself",
    ("POST", "/console/login"): "the sign-in form itself (rate limited)",
    ("GET", "/console/static/{name}"): "console CSS/JS, no data",
}
REFUSED = {401, 403}


@pytest.fixture(scope="module")
def app(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The gateway with every channel configured, so every route is mounted."""
    from bot.app import create_app
    from bot.channels.telegram.channel import TelegramChannel
    from bot.channels.telegram.handlers import Deps
    from kb.settings import Settings

    home = tmp_path_factory.mktemp("routes")
    shutil.copy(sqlite_template, home / "refdesk.db")
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{home / 'refdesk.db'}",
        wechat_token="route-audit",
        wechat_appid="wxroutes",
        telegram_token="1:routes",
        telegram_webhook_url="https://example.invalid/webhooks/telegram",
        telegram_webhook_secret="route-audit-secret",
    )
    app = create_app(settings)
    state = app.state.refdesk
    state.telegram = TelegramChannel(
        settings, Deps(settings, state.db, state.router, state.metrics)
    )
    return app


def routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    found = []
    for route in iter_route_contexts(app.routes):
        methods = getattr(route, "methods", None) or {"WS"}
        found += [(m, route.path) for m in sorted(methods) if m != "HEAD"]
    return found


def test_every_route_without_credentials_is_refused_or_listed_as_open(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    answered = []
    for method, path in routes(app):
        if (method, path) in OPEN:
            continue
        url = re.sub(r"\{[^}]+\}", "x", path)
        if method == "WS":
            try:
                with client.websocket_connect(url) as socket:
                    socket.receive_text()
                status = 101
            except WebSocketDisconnect as closed:
                status = 403 if closed.code in (1008, 4401, 4403) else closed.code
        else:
            response = client.request(method, url, json={})
            status = response.status_code
            if status in (302, 303, 307) and "/console/login" in response.headers["location"]:
                status = 401  # a console page sends a stranger to sign in
        if status not in REFUSED:
            answered.append(f"{method} {path} -> {status}")
    assert not answered, "answered without credentials and not on the allow-list:\n" + "\n".join(
        answered
    )


def test_the_channel_webhooks_are_mounted_and_audited(app) -> None:  # type: ignore[no-untyped-def]
    # Both webhooks exist in this app, so the audit above covered them.
    mounted = routes(app)
    for route in [("POST", "/webhooks/telegram"), ("POST", "/webhooks/wechat"),
                  ("GET", "/webhooks/wechat"), ("WS", "/console/ws")]:  # fmt: skip
        assert route in mounted and route not in OPEN


def test_the_allow_list_names_only_routes_that_exist(app) -> None:  # type: ignore[no-untyped-def]
    assert set(OPEN) <= set(routes(app))
