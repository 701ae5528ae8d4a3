"""Running kb/ services (synchronous SQLAlchemy) from async gateway code."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from kb.db import session_scope

P = ParamSpec("P")
T = TypeVar("T")


class Database:
    def __init__(self, url: str) -> None:
        self.url = url

    def run_sync(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        with session_scope(self.url) as session:
            return fn(session, *args, **kwargs)

    async def run(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Call ``fn(session, *args)`` in a worker thread inside one transaction."""
        return await run_in_threadpool(lambda: self.run_sync(fn, *args, **kwargs))


__all__ = ["Database", "Session"]
