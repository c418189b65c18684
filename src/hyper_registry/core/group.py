"""Group commit: concurrent single writes share one transaction.

A durable commit (SQLite ``synchronous=FULL``, PostgreSQL's WAL flush) costs a disk
sync whatever it holds. When many callers write one document each at the same
time, one writer thread takes every pending write, commits them together through
the pipeline, and hands each caller its own result (or its own refusal). A caller
alone waits for nothing: its write is committed at once.

Callers on an event loop (the HTTP API) get asyncio futures: the results of one commit
are handed to each loop in one wake-up (``call_soon_threadsafe``), not one per caller.
Every wake-up is a system call, so a thread switch, and the commit thread then waits
for the loop to give the GIL back: one per commit instead of one per write.

With a ``writer`` (a server process of ``serve --workers N`` on SQLite, see
``core/writer_process.py``) the groups go to the writer process instead, two at a time:
a second thread takes its answers in order, runs the after-commit hooks here and settles
the callers. If the writer is out of use, groups are committed here again.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, TypeVar

from hyper_registry.core.errors import ItemError, Unavailable
from hyper_registry.core.pipeline import WritePipeline
from hyper_registry.store.base import PreparedWrite, WriteResult

if TYPE_CHECKING:
    from hyper_registry.core.writer_process import RemoteWriter

_STOP = object()
T = TypeVar("T")
Waiter = Future[WriteResult] | asyncio.Future[WriteResult]
Outcome = WriteResult | BaseException


class GroupCommitter:
    def __init__(
        self,
        pipeline: WritePipeline,
        max_batch: int = 512,
        writer: RemoteWriter | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._writer = writer
        # The groups the writer process has, in the order sent (None: stop).
        self._sent: queue.Queue[list[tuple[PreparedWrite, Waiter]] | None] = queue.Queue()
        self._in_flight = threading.Semaphore(2)
        self._reader: threading.Thread | None = None
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
        self._put(item, future)
        return future

    def enqueue_here(self, item: PreparedWrite) -> asyncio.Future[WriteResult]:
        """Like :meth:`enqueue`, for a caller on the running event loop: await the
        returned future. The loop is woken once per commit for all its callers."""
        future: asyncio.Future[WriteResult] = asyncio.get_running_loop().create_future()
        self._put(item, future)
        return future

    def _put(self, item: PreparedWrite, future: Waiter) -> None:
        with self._lock:
            if self._closed:
                raise Unavailable("the registry is closed")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="hyper-registry-group-commit", daemon=True
                )
                self._thread.start()
            self._queue.put((item, future))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout=30)

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is _STOP:
                break
            group, stop = take_group(self._queue, first, _STOP, self._max_batch)
            self._dispatch(group)  # type: ignore[arg-type]
        if self._reader is not None:
            self._sent.put(None)
            self._reader.join(timeout=30)
        if self._writer is not None:
            self._writer.close()

    def _dispatch(self, group: list[tuple[PreparedWrite, Waiter]]) -> None:
        """Commit a group here, or hand it to the writer process (two groups in flight:
        it commits one while this thread gathers and sends the next)."""
        writer = self._writer
        if writer is not None and not writer.broken:
            self._in_flight.acquire()
            try:
                sent = writer.send([item for item, _ in group], actor="registry")
            except BaseException as exc:
                self._in_flight.release()
                self._settle_group(group, [exc] * len(group))
                return
            if sent:
                if self._reader is None:
                    self._reader = threading.Thread(
                        target=self._read, name="hyper-registry-writer-answers", daemon=True
                    )
                    self._reader.start()
                self._sent.put(group)
                return
            self._in_flight.release()
        self._commit(group)

    def _read(self) -> None:
        """Take the writer process's answers, in the order the groups were sent."""
        writer = self._writer
        assert writer is not None
        while True:
            group = self._sent.get()
            if group is None:
                return
            outcomes: list[Outcome]
            try:
                results = writer.receive([item for item, _ in group])
                self._pipeline.after_commit(results)  # the hooks and listeners live here
            except BaseException as exc:
                outcomes = [exc] * len(group)
            else:
                outcomes = _outcomes(len(group), results)
            finally:
                self._in_flight.release()
            self._settle_group(group, outcomes)

    def _commit(self, group: list[tuple[PreparedWrite, Waiter]]) -> None:
        items = [item for item, _ in group]
        outcomes: list[Outcome]
        try:
            results = self._pipeline.commit(items, actor="registry", atomic=False)
        except BaseException as exc:  # refused, or a bug: never leave a caller waiting
            outcomes = [exc] * len(group)
        else:
            outcomes = _outcomes(len(group), results)
        self._settle_group(group, outcomes)

    @staticmethod
    def _settle_group(group: list[tuple[PreparedWrite, Waiter]], outcomes: list[Outcome]) -> None:
        on_loops: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[WriteResult], Outcome]]]
        on_loops = {}
        for (_, fut), outcome in zip(group, outcomes, strict=True):
            if isinstance(fut, asyncio.Future):
                on_loops.setdefault(fut.get_loop(), []).append((fut, outcome))
            else:
                _settle(fut, outcome)
        for loop, settled in on_loops.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits there
                loop.call_soon_threadsafe(_settle_all, settled)


def take_group(q: queue.Queue[T], first: T, stop: object, limit: int) -> tuple[list[T], bool]:
    """``first`` and whatever else is waiting in ``q`` (up to ``limit`` in all), without
    waiting; and whether the ``stop`` marker was met (it is not in the group)."""
    group = [first]
    while len(group) < limit:
        try:
            nxt = q.get_nowait()
        except queue.Empty:
            break
        if nxt is stop:
            return group, True
        group.append(nxt)
    return group, False


def _outcomes(n: int, results: Sequence[WriteResult | ItemError]) -> list[Outcome]:
    """Each item's result or refusal, by position in its group."""
    by_index: dict[int, Outcome] = {
        r.index: r.error if isinstance(r, ItemError) else r for r in results
    }
    missing = Unavailable("the write got no result from its commit")
    return [by_index.get(i, missing) for i in range(n)]


def _settle(fut: Waiter, outcome: Outcome) -> None:
    if fut.done():  # an asyncio caller that gave up (cancelled)
        return
    if isinstance(outcome, BaseException):
        fut.set_exception(outcome)
    else:
        fut.set_result(outcome)


def _settle_all(
    settled: Sequence[tuple[asyncio.Future[WriteResult], Outcome]],
) -> None:
    for fut, outcome in settled:
        _settle(fut, outcome)
