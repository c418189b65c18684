"""Group commit for OpenLineage events: concurrent events share one durable commit.

A durable commit costs a disk sync whatever it holds, so events that arrive together
are stored together: one writer thread takes the pending events, groups those that do
not touch the same changed dataset (``Planned.conflicts``) and commits each group in one
transaction. If a group is refused (a run going backwards, a dataset refused by its
rules), its events are retried one by one, so only the faulty event is refused. A
caller alone waits for nothing: its event is committed at once.

Hangs off the registry (``registry.extension(OpenLineageBatcher)``); with
``Settings.group_commit`` off, events are committed one by one in the caller's thread.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from hyper_registry.core.errors import HyperRegistryError, Unavailable
from hyper_registry.kinds.dataset.openlineage import (
    DatasetEvent,
    JobEvent,
    Planned,
    RunEvent,
    commit,
    ingest,
    parse_event,
    plan,
)

if TYPE_CHECKING:
    from hyper_registry.core.registry import Registry

MAX_BATCH = 64
_STOP = object()


class OpenLineageBatcher:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, raw: Any, *, actor: str) -> dict[str, Any]:
        """Validate and store one event (possibly with others); returns its summary."""
        if not self._registry.settings.group_commit:
            return ingest(self._registry, raw, actor=actor)
        # A malformed event is refused here, alone.
        event = raw if isinstance(raw, RunEvent | JobEvent | DatasetEvent) else parse_event(raw)
        future: Future[dict[str, Any]] = Future()
        with self._lock:
            if self._closed:
                raise Unavailable("the registry is closing")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="openlineage-commit", daemon=True
                )
                self._thread.start()
            self._queue.put((event, actor, future))
        return future.result()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            pending = [first]
            while len(pending) < MAX_BATCH:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    self._queue.put(_STOP)
                    break
                pending.append(nxt)
            while pending:
                pending = self._round(pending)

    def _round(self, pending: list[Any]) -> list[Any]:
        """Commit the longest prefix of ``pending`` whose events do not conflict; return the rest.

        Plans are made here, just before their commit, so each reads what earlier rounds
        stored; the order of arrival is kept (a run's events are applied in order).
        """
        group: list[tuple[Planned, Future[dict[str, Any]]]] = []
        used = 0
        for event, actor, future in pending:
            try:
                planned = plan(self._registry, event, actor=actor)
            except Exception as exc:
                future.set_exception(exc)
                used += 1
                continue
            if any(planned.conflicts(other) for other, _ in group):
                break
            group.append((planned, future))
            used += 1
        rest = pending[used:]
        if not group:
            return rest
        try:
            summaries = commit(self._registry, [p for p, _ in group])
        except HyperRegistryError as exc:
            if len(group) == 1:
                group[0][1].set_exception(exc)
            else:  # find the faulty event: each on its own, in order
                for planned, future in group:
                    self._one(planned, future)
            return rest
        except Exception as exc:  # pragma: no cover - reported to every caller
            for _, future in group:
                future.set_exception(exc)
            return rest
        for (_, future), summary in zip(group, summaries, strict=True):
            future.set_result(summary)
        return rest

    def _one(self, planned: Planned, future: Future[dict[str, Any]]) -> None:
        try:
            fresh = plan(self._registry, planned.event, actor=planned.actor)
            future.set_result(commit(self._registry, [fresh])[0])
        except Exception as exc:
            future.set_exception(exc)
