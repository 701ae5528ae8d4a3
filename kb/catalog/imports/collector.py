"""Rarer cyclic garbage collections while an import runs.

An import allocates millions of short-lived objects while large long-lived ones
(jieba's dictionary, the analysis caches) sit in memory. At Python's default threshold
the collector runs every 700 net allocations and now and then walks everything; that
was ~20% of an import's CPU. Collection stays on, only less often; the previous
thresholds come back when the last import running in the process ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

ALLOCATIONS_BETWEEN_COLLECTIONS = 50_000

_lock = threading.Lock()
_running = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def fewer_collections() -> Iterator[None]:
    global _running, _saved
    with _lock:
        if _running == 0:
            _saved = gc.get_threshold()
            first, *older = _saved
            gc.set_threshold(max(first, ALLOCATIONS_BETWEEN_COLLECTIONS), *older)
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0 and _saved is not None:
                gc.set_threshold(*_saved)
