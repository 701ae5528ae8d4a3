"""Writing and committing an import's batches on a thread of its own, in order.

Storing a batch is mostly waiting for the database (its server's CPU on PostgreSQL,
SQLite's C code), and the drivers release the GIL while they wait, so the importing
thread reads and prepares the next batch meanwhile. Batches commit one after another in
the order given: the alerts worker's cursors and an interrupted import see the same
prefix of the input as before. At most ``depth`` batches wait, which bounds memory.

While the writer runs it alone uses the session; the caller gets it back from
``finish``. After a batch fails, the batches behind it are not written.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")


class BatchNotWritten(Exception):
    """A batch behind one that failed."""


class BatchWriter(Generic[T]):
    def __init__(self, session: Session, *, depth: int = 2) -> None:
        self._session = session
        self._depth = depth
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="catalog-import-writer")
        self._waiting: deque[Future[T]] = deque()
        self._failed = False

    def submit(self, write: Callable[[Session], T]) -> Future[T]:
        """Queue ``write(session)``; blocks while ``depth`` batches wait. Raises the
        error of a batch that failed (the caller stops reading)."""
        while self._waiting and (self._waiting[0].done() or len(self._waiting) >= self._depth):
            self._waiting.popleft().result()
        future = self._executor.submit(self._run, write)
        self._waiting.append(future)
        return future

    def finish(self) -> None:
        """Wait for every queued batch; raise the first failure."""
        try:
            while self._waiting:
                self._waiting.popleft().result()
        finally:
            self._executor.shutdown(wait=True)

    def _run(self, write: Callable[[Session], T]) -> T:
        if self._failed:
            raise BatchNotWritten("an earlier batch failed")
        try:
            return write(self._session)
        except BaseException:
            self._failed = True
            raise
