"""Running kb/ services (synchronous SQLAlchemy) from async gateway code."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from kb.db import session_scope

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger("refdesk.db")

# What the caller should tell a client: try again in this many seconds.
RETRY_AFTER_SECONDS = 5


class StorageUnavailable(Exception):
    """The database cannot be reached or is locked: nothing of this step was written.

    Handlers turn it into a clear answer that hands the text back (web chat, console)
    or an HTTP 503 the sender retries (webhooks), never into a stack trace."""


def _is_outage(exc: BaseException) -> bool:
    # OperationalError covers a refused connection, a server shutting down and SQLite's
    # "database is locked"; InterfaceError a connection closed under us.
    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


class Database:
    def __init__(self, url: str) -> None:
        self.url = url

    def run_sync(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        # A connection the server dropped (restart) fails once and is discarded by the
        # pool; the step is retried on a fresh one. Anything else is an outage.
        for attempt in (1, 2):
            try:
                with session_scope(self.url) as session:
                    return fn(session, *args, **kwargs)
            except DBAPIError as exc:
                if not _is_outage(exc):
                    raise
                if attempt == 1 and exc.connection_invalidated:
                    continue
                log.warning("database unavailable: %s", str(exc).splitlines()[0])
                raise StorageUnavailable(str(exc).splitlines()[0]) from exc
        raise AssertionError("unreachable")

    async def run(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Call ``fn(session, *args)`` in a worker thread inside one transaction."""
        return await run_in_threadpool(lambda: self.run_sync(fn, *args, **kwargs))


__all__ = ["Database", "RETRY_AFTER_SECONDS", "Session", "StorageUnavailable"]
