"""The SIP2 fixture server (tests/fixtures/sip2_server.py) on its own thread, for the stack.

The stack's processes reach it over TCP like a real ILS; its settings are the
``REFDESK_ILS_SIP2_*`` variables :meth:`Sip2Thread.env` returns.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from typing import Any

from tests.fixtures.sip2_server import Sip2Server


class Sip2Thread:
    def __init__(self) -> None:
        self.server = Sip2Server()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> Sip2Thread:
        self._thread.start()
        self.call(self.server.start())
        return self

    def call(self, coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout=10)

    def env(self) -> dict[str, str]:
        host, port = self.server.address
        return {
            "REFDESK_ILS_SIP2_HOST": host,
            "REFDESK_ILS_SIP2_PORT": str(port),
            "REFDESK_ILS_SIP2_LOGIN_USER": self.server.login_user,
            "REFDESK_ILS_SIP2_LOGIN_PASSWORD": self.server.login_password,
            "REFDESK_ILS_SIP2_INSTITUTION_ID": self.server.institution,
            "REFDESK_ILS_SIP2_LOCATION_CODE": "REFDESK",
            "REFDESK_ILS_SIP2_TIMEZONE": "Asia/Shanghai",
        }

    def stop(self) -> None:
        try:
            self.call(self.server.stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
