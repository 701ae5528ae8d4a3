"""A SIP2 server per test, and a client configured through REFDESK_ILS_* settings."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kb.ils.sip2.client import Sip2Client
from kb.ils.sip2.connection import Sip2Config
from kb.settings import get_settings
from tests.fixtures.sip2_server import Sip2Server


@pytest.fixture
async def sip2_server() -> AsyncIterator[Sip2Server]:
    server = Sip2Server()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def ils_settings(sip2_server: Sip2Server, monkeypatch: pytest.MonkeyPatch) -> None:
    host, port = sip2_server.address
    for name, value in {
        "HOST": host,
        "PORT": str(port),
        "LOGIN_USER": sip2_server.login_user,
        "LOGIN_PASSWORD": sip2_server.login_password,
        "INSTITUTION_ID": sip2_server.institution,
        "LOCATION_CODE": "REFDESK",
        "TIMEOUT_SECONDS": "1.5",
        "TIMEZONE": "Asia/Shanghai",
    }.items():
        monkeypatch.setenv(f"REFDESK_ILS_SIP2_{name}", value)
    get_settings.cache_clear()


@pytest.fixture
def sip2_config(ils_settings: None) -> Sip2Config:
    return Sip2Config.from_settings()


@pytest.fixture
async def sip2_client(sip2_config: Sip2Config) -> AsyncIterator[Sip2Client]:
    client = Sip2Client(sip2_config)
    yield client
    await client.aclose()
