"""Group commit: concurrent single writes share one transaction.

A durable commit (SQLite ``synchronous=FULL``, PostgreSQL's WAL flush) costs a disk
sync whatever it holds. When many callers write one document each at the same
time, one writer thread takes every pending write, commits them together through
the pipeline, and hands each caller its own result (or its own refusal). A caller
alone waits for nothing: its write is committed at once.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future

from hyper_registry.core.errors import HyperRegistryError, ItemError, Unavailable
from hyper_registry.core.pipeline import WritePipeline
from hyper_registry.store.base import PreparedWrite, WriteResult

_STOP = object()


class GroupCommitter:
    def __init__(self, pipeline: WritePipeline, max_batch: int = 512) -> None:
        self._pipeline = pipeline
        self._max_batch = max_batch
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, item: PreparedWrite) -> WriteResult:
        """Commit ``item`` (possibly with others) and return its result; raises its refusal."""
        return self.enqueue(item).result()

    def enqueue(self, item: PreparedWrite) -> Future[WriteResult]:
        """Queue ``item`` for the next commit; the future holds its result or its refusal.

        An event loop can await it (``asyncio.wrap_future``) without parking a thread.
        """
        future: Future[WriteResult] = Future()
        with self._lock:
            if self._closed:
                raise Unavailable("the registry is closed")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="hyper-registry-group-commit", daemon=True
                )
                self._thread.start()
            self._queue.put((item, future))
        return future

    def close(self) -> None:
        with self._lock:
            self._closed = True
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            group = [first]
            stop = False
            while len(group) < self._max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                group.append(nxt)
            self._commit(group)  # type: ignore[arg-type]
            if stop:
                return

    def _commit(self, group: list[tuple[PreparedWrite, Future[WriteResult]]]) -> None:
        items = [item for item, _ in group]
        try:
            results = self._pipeline.commit(items, actor="registry", atomic=False)
        except HyperRegistryError as exc:
            for _, fut in group:
                fut.set_exception(exc)
            return
        except BaseException as exc:  # a bug: never leave a caller waiting forever
            for _, fut in group:
                fut.set_exception(exc)
            return
        for result in results:
            fut = group[result.index][1]
            if isinstance(result, ItemError):
                fut.set_exception(result.error)
            else:
                fut.set_result(result)
