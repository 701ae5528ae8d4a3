"""Reading an import file in a second process while this one stores what was read.

Parsing (MARC above all) costs about as much CPU as storing, so with two cores the two
overlap. Results cross in chunks, one pickle per chunk; an error the reader raises
(InputError, OSError) is raised here at the same point of the stream.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
from collections.abc import Callable, Iterator

from kb.catalog.imports.collector import fewer_collections
from kb.catalog.imports.report import ReadResult

_CHUNK = 500
_QUEUED_CHUNKS = 8  # bounds memory when storing is the slower side


def read_ahead(read: Callable[[], Iterator[ReadResult]]) -> Iterator[ReadResult]:
    """The results of ``read()`` (a picklable callable), produced in a child process."""
    # spawn, not fork: the parent may hold database connections and other threads' locks.
    context = multiprocessing.get_context("spawn")
    chunks = context.Queue(maxsize=_QUEUED_CHUNKS)
    process = context.Process(target=_produce, args=(read, chunks), daemon=True)
    process.start()
    try:
        while True:
            try:
                kind, payload = chunks.get(timeout=1.0)
            except queue.Empty:
                if not process.is_alive():
                    raise RuntimeError(
                        f"the reading process ended unexpectedly (exit code {process.exitcode})"
                    ) from None
                continue
            if kind == "results":
                yield from payload
            elif kind == "error":
                raise payload
            else:
                return
    finally:
        if process.is_alive():  # the consumer stopped early or failed
            process.terminate()
        process.join()


def _produce(read: Callable[[], Iterator[ReadResult]], chunks: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    with fewer_collections():  # parsing allocates as much as storing does
        _send_results(read, chunks)


def _send_results(read: Callable[[], Iterator[ReadResult]], chunks: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    chunk: list[ReadResult] = []
    try:
        for result in read():
            chunk.append(result)
            if len(chunk) >= _CHUNK:
                chunks.put(("results", chunk))
                chunk = []
    except Exception as error:
        chunks.put(("results", chunk))
        chunks.put(("error", _picklable(error)))
        return
    chunks.put(("results", chunk))
    chunks.put(("done", None))


def _picklable(error: Exception) -> Exception:
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error
