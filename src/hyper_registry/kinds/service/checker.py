"""The health checker: an asyncio scheduler over every service with a health check.

One checker runs inside ``hyper-registry serve`` (a thread with its own event loop)
or as ``hyper-registry services worker`` (a process of its own, for scale-out). Each
checker, every tick (``checker_tick_seconds``):

- follows the change log, so new, changed and unregistered services are seen within
  a tick in every process (and at once in the process that unregistered one, through
  the kind's ``on_unregistered`` hook);
- renews, claims and gives back leases (:mod:`.leases`), so each service is checked
  by exactly one worker;
- stores the results gathered since the last tick in one transaction
  (:mod:`.history`), then writes each status change into the entry's status and, for
  a change to or from critical, a ``service.health`` change-log event that names the
  service and its dependents.

Checks run at each service's interval with a random first offset (jitter, so 5,000
services do not all fire at once), at most ``checker_concurrency`` at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import heapq
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections import deque
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from hyper_registry.core.envelope import Entry
from hyper_registry.core.errors import HyperRegistryError, Invalid, NotFound
from hyper_registry.kinds.service import history
from hyper_registry.kinds.service.history import Observation, Transition
from hyper_registry.kinds.service.leases import Leases
from hyper_registry.kinds.service.probes import Result, Target, make_client, probe, target_of
from hyper_registry.kinds.service.ssrf import AddressPolicy
from hyper_registry.kinds.service.transport import HttpProber
from hyper_registry.store.base import Query
from hyper_registry.store.schema import changes

if TYPE_CHECKING:
    from hyper_registry.core.registry import Registry

log = logging.getLogger(__name__)

ACTOR = "health-checker"
EVENT = "service.health"
PURGE_EVERY = 600.0
MAX_DEPENDENTS = 200
SCHEDULER_GRAIN = 0.02  # seconds; a check may start this much after its due time
MANUAL_TIMEOUT = 30.0
FINAL_PUBLISH_SECONDS = 10.0  # a manual check answers a request: it never waits longer
SKIP_OPS = frozenset({"status", "alias", EVENT})


def policy_of(registry: Registry) -> AddressPolicy:
    s = registry.settings
    return AddressPolicy(
        allow_loopback=s.checker_allow_loopback, allow_private=s.checker_allow_private
    )


def lease_ttl(interval: float, tick: float) -> float:
    """A lease lasts one interval, and never less than three ticks (renewals)."""
    return max(interval, 3 * tick)


class Checkers:
    """The checkers running over one registry (``registry.extension(Checkers)``).

    The kind's ``on_unregistered`` hook tells them through this, so a service that is
    unregistered in this process stops being checked at once.
    """

    def __init__(self, registry: Registry) -> None:
        self._lock = threading.Lock()
        self._running: list[HealthChecker] = []

    def add(self, checker: HealthChecker) -> None:
        with self._lock:
            self._running.append(checker)

    def remove(self, checker: HealthChecker) -> None:
        with self._lock:
            if checker in self._running:
                self._running.remove(checker)

    def forget(self, ref: str) -> None:
        with self._lock:
            running = list(self._running)
        for checker in running:
            checker.forget(ref)

    def close(self) -> None:
        """The registry closes: stop the checkers still running over it."""
        with self._lock:
            running = list(self._running)
        for checker in running:
            checker.stop()


def on_unregistered(registry: Registry, entry: Entry) -> None:
    """Stop checking an unregistered service: drop its lease and state, tell the checkers."""
    ref = str(entry.ref)
    history.forget(registry.store.engine, ref)
    registry.extension(Checkers).forget(ref)


def publish(registry: Registry, transitions: list[Transition]) -> None:
    """Write status changes into entries; log changes to and from critical with dependents."""
    for t in transitions:
        try:
            entry = registry.get(t.ref)
        except NotFound:
            continue
        status = dict(entry.status)
        status["health"] = {
            "status": t.status,
            "since": history.iso(t.at),
            "message": t.message,
        }
        try:
            registry.set_status(t.ref, status, actor=ACTOR)
        except NotFound:
            continue
        if t.status != "critical" and t.previous != "critical":
            continue
        try:
            hits = registry.dependents(t.ref)
        except HyperRegistryError:
            hits = []
        # The row lives in the service's namespace: it names the dependents there and
        # only counts those elsewhere (readers of this namespace may not see them).
        here = sorted({str(h.ref) for h in hits if h.ref.namespace == t.namespace})
        elsewhere = len({str(h.ref) for h in hits if h.ref.namespace != t.namespace})
        dependents = here
        detail: dict[str, Any] = {
            "service": t.ref,
            "status": t.status,
            "previous": t.previous,
            "message": t.message,
            "at": history.iso(t.at),
            "dependents": dependents[:MAX_DEPENDENTS],
            "dependentsElsewhere": elsewhere,
        }
        if len(dependents) > MAX_DEPENDENTS:
            detail["moreDependents"] = len(dependents) - MAX_DEPENDENTS
        registry.store.record(
            actor=ACTOR, op=EVENT, ref=t.ref, kind="service", namespace=t.namespace, detail=detail
        )


async def check_now(registry: Registry, entry: Entry, actor: str) -> dict[str, Any]:
    """Probe a service once now (the manual trigger), store the result and publish it."""
    target = target_of(entry)
    if target is None:
        raise Invalid.at(("spec", "healthCheck"), f"{entry.ref} has no health check to run")
    target = dataclasses.replace(target, timeout=min(target.timeout, MANUAL_TIMEOUT))
    async with make_client(4) as client:
        started = time.time()
        result = await probe(client, target, policy_of(registry))
    obs = Observation(target, result, started)
    engine = registry.store.engine

    def store() -> None:
        transitions = history.store_results(engine, [obs], f"manual:{actor}", leased=False)
        publish(registry, transitions)

    await asyncio.to_thread(store)
    return {
        "ref": target.ref,
        "at": history.iso(started),
        "status": result.status,
        "latencyMs": result.latency_ms,
        "message": result.message,
    }


class HealthChecker:
    """One checker worker over a registry. ``run()`` in a loop, or ``start()`` in a thread."""

    def __init__(self, registry: Registry, *, worker_id: str | None = None) -> None:
        s = registry.settings
        self.registry = registry
        self.worker_id = worker_id or (
            f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        )
        self.tick = s.checker_tick_seconds
        self.concurrency = s.checker_concurrency
        self.interval_override = s.checker_test_interval
        self.retention = s.checker_retention_days * 86400.0
        self.policy = policy_of(registry)
        self.leases = Leases(
            registry.store.engine, self.worker_id, live_horizon=max(3 * self.tick, 0.5)
        )
        self.targets: dict[str, Target] = {}
        self.held: dict[str, float] = {}  # ref -> this worker's lease valid until (wall clock)
        self.lags: deque[float] = deque(maxlen=200_000)  # seconds a check started late
        self.checks_done = 0
        self._due: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._buffer: list[Observation] = []
        self._unpublished: list[Transition] = []
        self._seq = 0
        self._last_purge = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._stopping: asyncio.Event | None = None
        self._wake: asyncio.Event | None = None
        self._release = True
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    # -- control (thread-safe) ------------------------------------------------------

    def start(self) -> None:
        """Run in a background thread with its own event loop (the in-server checker)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self.run()), name="health-checker", daemon=True
        )
        self._thread.start()
        self._ready.wait(timeout=30)

    def stop(self, *, release: bool = True, timeout: float = 30.0) -> None:
        """Stop; ``release=False`` keeps the leases (what a crash would do, for tests)."""
        self._release = release
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    close = stop

    def forget(self, ref: str) -> None:
        """Stop checking ``ref`` now (called from any thread; returns once it is dropped)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if threading.get_ident() == self._loop_thread:
            self._drop(ref)
            return

        async def drop() -> None:
            self._drop(ref)

        with contextlib.suppress(Exception):  # a loop shutting down has dropped it anyway
            asyncio.run_coroutine_threadsafe(drop(), loop).result(timeout=5)

    # -- the loop -------------------------------------------------------------------

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        checkers = self.registry.extension(Checkers)
        checkers.add(self)
        client = make_client(self.concurrency)
        sem = asyncio.Semaphore(self.concurrency)
        try:
            await self._load()
            await self._sync()
            self._ready.set()
            syncer = asyncio.create_task(self._sync_loop())
            publisher = asyncio.create_task(self._publish_loop())
            try:
                await self._schedule(client, sem)
            finally:
                for helper in (syncer, publisher):
                    helper.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await helper
        finally:
            self._ready.set()
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            await client.aclose()
            checkers.remove(self)
            if self._release:
                await asyncio.to_thread(self._final_flush)

    def _final_flush(self) -> None:
        try:
            self._flush()
            self.leases.release_all()
            # Publish what is left, within a bound: a stop must not take minutes. The
            # states are stored already; only entry statuses and events would be late.
            deadline = time.monotonic() + FINAL_PUBLISH_SECONDS
            while self._unpublished and time.monotonic() < deadline:
                batch, self._unpublished = self._unpublished[:50], self._unpublished[50:]
                publish(self.registry, batch)
            if self._unpublished:
                log.warning(
                    "health checker: %d status changes not published at stop",
                    len(self._unpublished),
                )
        except (HyperRegistryError, sa.exc.SQLAlchemyError):
            log.exception("health checker: could not give back its leases")

    async def _schedule(self, client: HttpProber, sem: asyncio.Semaphore) -> None:
        assert self._stopping is not None and self._wake is not None
        while not self._stopping.is_set():
            now = time.time()
            while self._heap and self._heap[0][0] <= now:
                due, ref = heapq.heappop(self._heap)
                if self._due.get(ref) != due:
                    continue  # rescheduled or dropped since
                target = self.targets.get(ref)
                if target is None:
                    self._due.pop(ref, None)
                    continue
                nxt = due + target.interval
                if nxt <= now:  # far behind (a stall): keep the cadence from now
                    nxt = now + target.interval
                self._push(ref, nxt)
                if self.held.get(ref, 0.0) <= now:
                    continue  # not (or no longer surely) ours: the lease decides
                task = asyncio.create_task(self._check(client, sem, target, due))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            delay = min(self._heap[0][0] - time.time(), self.tick) if self._heap else self.tick
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                # at most ~50 wake-ups a second: due checks are taken in small batches
                await asyncio.wait_for(self._wake.wait(), timeout=max(delay, SCHEDULER_GRAIN))
            if self._stopping.is_set():
                return

    async def _check(
        self, client: HttpProber, sem: asyncio.Semaphore, target: Target, due: float
    ) -> None:
        async with sem:
            if target.ref not in self.targets or self.held.get(target.ref, 0.0) <= time.time():
                return
            started = time.time()
            self.lags.append(max(0.0, started - due))
            result: Result = await probe(client, target, self.policy)
            if target.ref in self.targets:
                self._buffer.append(Observation(target, result, started))
                self.checks_done += 1

    def _push(self, ref: str, due: float) -> None:
        self._due[ref] = due
        heapq.heappush(self._heap, (due, ref))

    def _drop(self, ref: str) -> None:
        self.targets.pop(ref, None)
        self.held.pop(ref, None)
        self._due.pop(ref, None)
        self._buffer = [o for o in self._buffer if o.target.ref != ref]

    def _set_target(self, target: Target) -> None:
        old = self.targets.get(target.ref)
        self.targets[target.ref] = target
        if old is None or old.interval != target.interval:
            # jitter: the first check lands anywhere in the first interval
            self._push(target.ref, time.time() + random.uniform(0, target.interval))
            if self._wake is not None:
                self._wake.set()

    async def _sync_loop(self) -> None:
        assert self._stopping is not None
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.tick)
            if self._stopping.is_set():
                return
            try:
                await self._sync()
            except (HyperRegistryError, sa.exc.SQLAlchemyError, OSError):
                log.exception("health checker: a sync failed; retrying next tick")

    async def _publish_loop(self) -> None:
        """Status changes are published apart from the tick, so a burst of them (the first
        check of thousands of services) never delays lease renewals."""
        assert self._stopping is not None
        while not self._stopping.is_set():
            if not self._unpublished:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=self.tick)
                continue
            batch, self._unpublished = self._unpublished[:50], self._unpublished[50:]
            try:
                await asyncio.to_thread(publish, self.registry, batch)
            except (HyperRegistryError, sa.exc.SQLAlchemyError, OSError):
                log.exception("health checker: publishing status changes failed")

    @property
    def pending_events(self) -> int:
        """Status changes stored but not yet written to entries and the change log."""
        return len(self._unpublished)

    # -- database work (in a thread; results applied on the loop) ----------------------

    async def _load(self) -> None:
        found = await asyncio.to_thread(self._read_all)
        for target in found:
            self._set_target(target)

    def _read_all(self) -> list[Target]:
        with self.registry.store.engine.connect() as conn:
            self._seq = int(conn.execute(sa.select(sa.func.max(changes.c.seq))).scalar() or 0)
        found: list[Target] = []
        after: int | None = None
        while True:
            page = self.registry.query(
                Query(kinds=["service"], all_versions=True, limit=500, after=after)
            )
            for entry in page.items:
                target = target_of(entry, self.interval_override)
                if target is not None:
                    found.append(target)
            if page.next_cursor is None:
                break
            after = page.next_cursor
        self.leases.ensure({t.ref: lease_ttl(t.interval, self.tick) for t in found})
        return found

    async def _sync(self) -> None:
        buffer, self._buffer = self._buffer, []
        known = dict(self.targets)
        outcome = await asyncio.to_thread(self._sync_db, buffer, known)
        updated, removed, renewed, transitions = outcome
        self._unpublished.extend(transitions)
        for ref in removed:
            self._drop(ref)
        for target in updated:
            self._set_target(target)
        now_valid = {ref: until for ref, until in renewed.items() if ref in self.targets}
        newly = [ref for ref in now_valid if ref not in self.held]
        self.held = now_valid
        for ref in newly:  # a service just taken over is checked soon, not after a full interval
            target = self.targets[ref]
            due = self._due.get(ref)
            soon = time.time() + random.uniform(0, min(target.interval, 3 * self.tick))
            if due is None or due > soon:
                self._push(ref, soon)
        if newly and self._wake is not None:
            self._wake.set()

    def _sync_db(
        self, buffer: list[Observation], known: dict[str, Target]
    ) -> tuple[list[Target], set[str], dict[str, float], list[Transition]]:
        registry = self.registry
        updated, removed = self._follow(known)
        for target in updated:
            known[target.ref] = target
        for ref in removed:
            known.pop(ref, None)
        started = time.time()
        self.leases.ensure({t.ref: lease_ttl(t.interval, self.tick) for t in updated})
        live = self.leases.heartbeat(started)
        leases = self.leases.renew(started)
        share = self.leases.fair_share(live)
        if len(leases) > share:
            extra = sorted(leases)[share:]
            self.leases.release(extra)
            for ref in extra:
                leases.pop(ref)
        leases.update(self.leases.claim(started, len(leases), live))
        unknown = [ref for ref in leases if ref not in known]
        for ref in unknown:  # a lease for a service this worker has not loaded yet
            looked_up = self._lookup(ref)
            if looked_up is None:
                self.leases.drop([ref])
                leases.pop(ref)
            else:
                updated.append(looked_up)
                known[ref] = looked_up
        transitions = history.store_results(registry.store.engine, buffer, self.worker_id)
        if started - self._last_purge > PURGE_EVERY:
            self._last_purge = started
            history.purge(registry.store.engine, started - self.retention)
        valid = {ref: started + ttl for ref, ttl in leases.items()}
        return updated, removed, valid, transitions

    def _lookup(self, ref: str) -> Target | None:
        try:
            entry = self.registry.get(ref)
        except (NotFound, ValueError):
            return None
        return target_of(entry, self.interval_override)

    def _follow(self, known: dict[str, Target]) -> tuple[list[Target], set[str]]:
        """Services created, changed or removed since the last tick (from the change log)."""
        touched: set[str] = set()
        while True:
            rows = self.registry.changes(self._seq, 1000, audit=False)
            for row in rows:
                self._seq = max(self._seq, row.seq)
                if row.kind == "service" and row.op not in SKIP_OPS:
                    touched.add(row.ref)
            if len(rows) < 1000:
                break
        updated: list[Target] = []
        removed: set[str] = set()
        for ref in sorted(touched):
            target = self._lookup(ref)
            if target is None:
                removed.add(ref)
            elif known.get(ref) != target:
                updated.append(target)
        if removed:
            self.leases.drop(removed)
        return updated, removed

    def _flush(self) -> None:
        buffer, self._buffer = self._buffer, []
        transitions = history.store_results(self.registry.store.engine, buffer, self.worker_id)
        self._unpublished.extend(transitions)


def percentile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) of ``values`` (nearest rank), or None when empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
