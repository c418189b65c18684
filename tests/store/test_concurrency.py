"""Writers racing: exactly one wins a revision, duplicates and idempotent retries resolve cleanly.

Each race runs in three set-ups, on each backend: two threads on one registry (their writes may
share a group commit), the same without group commit (two transactions on one engine), and
two registries on one database (two engines: the race is decided by the database alone).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from hyper_registry import AlreadyExists, Conflict, Entry, HyperRegistryError, Registry
from hyper_registry.store.schema import entries

MakeDoc = Callable[..., dict[str, Any]]
OpenRegistry = Callable[..., Registry]
ROUNDS = 5


@pytest.fixture(params=["one-registry", "no-group-commit", "two-registries"])
def writers(
    request: pytest.FixtureRequest, open_registry: OpenRegistry
) -> tuple[Registry, Registry]:
    if request.param == "one-registry":
        reg = open_registry()
        return reg, reg
    if request.param == "no-group-commit":
        reg = open_registry(group_commit=False)
        return reg, reg
    return open_registry(), open_registry()


def race(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` at the same moment, one thread each; each result or raised error."""
    barrier = threading.Barrier(len(calls), timeout=30)

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        try:
            return call()
        except HyperRegistryError as exc:
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_two_writers_on_one_revision_exactly_one_wins(
    writers: tuple[Registry, Registry], make_doc: MakeDoc
) -> None:
    a, b = writers
    a.register(make_doc("service:edge/gw@1.0.0", title="start"))
    for n in range(1, ROUNDS + 1):
        results = race(
            [
                lambda n=n: a.update(
                    make_doc("service:edge/gw@1.0.0", title=f"a{n}"), expected_revision=n
                ),
                lambda n=n: b.update(
                    make_doc("service:edge/gw@1.0.0", title=f"b{n}"), expected_revision=n
                ),
            ]
        )
        winners = [r for r in results if isinstance(r, Entry)]
        losers = [r for r in results if not isinstance(r, Entry)]
        assert len(winners) == 1, results
        assert len(losers) == 1 and isinstance(losers[0], Conflict), results
        assert winners[0].revision == n + 1
        stored = a.get("service:edge/gw@1.0.0")
        assert (stored.revision, stored.metadata.title) == (n + 1, winners[0].metadata.title)
    updates = [c for c in a.changes() if c.op == "update"]
    assert [c.revision for c in updates] == list(range(2, ROUNDS + 2))


def test_two_creates_of_one_version_one_already_exists(
    writers: tuple[Registry, Registry], make_doc: MakeDoc
) -> None:
    a, b = writers
    for n in range(ROUNDS):
        ref = f"service:edge/gw{n}@1.0.0"
        results = race(
            [
                lambda ref=ref: a.register(make_doc(ref, title="a")),
                lambda ref=ref: b.register(make_doc(ref, title="b")),
            ]
        )
        assert sorted(type(r).__name__ for r in results) == ["AlreadyExists", "Entry"], results
        winner = next(r for r in results if isinstance(r, Entry))
        assert a.get(ref).uid == winner.uid
    assert [c.op for c in a.changes()] == ["create"] * ROUNDS


def test_two_applies_of_a_new_version_create_it_once(
    writers: tuple[Registry, Registry], make_doc: MakeDoc
) -> None:
    a, b = writers
    doc = make_doc("service:edge/gw@1.0.0", title="same")
    results = race([lambda: a.apply(doc), lambda: b.apply(doc)])
    assert sorted(r.outcome for r in results) == ["created", "unchanged"], results
    assert [c.op for c in a.changes()] == ["create"]


def test_idempotent_retries_racing_apply_once(
    writers: tuple[Registry, Registry],
    make_doc: MakeDoc,
    backend: str,
    request: pytest.FixtureRequest,
) -> None:
    a, b = writers
    for n in range(ROUNDS * 2):
        doc = make_doc(f"service:edge/gw{n}@1.0.0", title="once")
        results = race(
            [
                lambda doc=doc, n=n: a.register(doc, idempotency_key=f"retry-{n}"),
                lambda doc=doc, n=n: b.register(doc, idempotency_key=f"retry-{n}"),
            ]
        )
        assert all(isinstance(r, Entry) for r in results), results
        assert results[0].uid == results[1].uid
    assert [c.op for c in a.changes()] == ["create"] * ROUNDS * 2


@contextmanager
def row_locked(registry: Registry, ref_key: str, backend: str) -> Iterator[Callable[[int], None]]:
    """Hold the write lock on one entry (PostgreSQL: its row; SQLite: the database) until the
    caller has seen ``n`` other transactions queue behind it; yields that wait-then-release."""
    engine = registry.store.engine
    conn = engine.connect()
    if backend == "sqlite":
        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
    tx = conn.begin()
    holder = 0
    if backend == "postgres":
        holder = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    conn.execute(sa.select(entries.c.id).where(entries.c.ref_key == ref_key).with_for_update())

    def release_when_queued(n: int) -> None:
        deadline = time.monotonic() + 20
        if backend == "postgres":
            with engine.connect() as watcher:
                while time.monotonic() < deadline:
                    # A second waiter on a row waits for the first waiter, not for the holder.
                    edges = watcher.exec_driver_sql(
                        "SELECT pid, pg_blocking_pids(pid) FROM pg_stat_activity "
                        "WHERE cardinality(pg_blocking_pids(pid)) > 0"
                    ).all()
                    behind = {holder}
                    for _ in edges:
                        behind |= {pid for pid, by in edges if behind & set(by)}
                    if len(behind) - 1 >= n:
                        break
                    time.sleep(0.01)
                else:
                    pytest.fail(f"{n} writers never queued behind the lock")
        else:
            time.sleep(0.3)  # SQLite shows no lock waits; the writers queue at BEGIN IMMEDIATE
        tx.commit()

    try:
        yield release_when_queued
    finally:
        if tx.is_active:
            tx.rollback()
        conn.close()


def test_idempotent_update_retries_queued_on_one_row_apply_once(
    open_registry: OpenRegistry, make_doc: MakeDoc, backend: str, request: pytest.FixtureRequest
) -> None:
    """Deterministic: both retries are past their key lookup and waiting for the row."""
    a, b = open_registry(), open_registry()
    a.register(make_doc("service:edge/gw@1.0.0", title="one"))
    doc = make_doc("service:edge/gw@1.0.0", title="two")

    def call(reg: Registry) -> Any:
        try:
            return reg.update(doc, expected_revision=1, idempotency_key="upd-1")
        except HyperRegistryError as exc:
            return exc

    with (
        row_locked(a, "service:edge/gw@1.0.0", backend) as release_when_queued,
        ThreadPoolExecutor(2) as pool,
    ):
        futures = [pool.submit(call, a), pool.submit(call, b)]
        release_when_queued(2)
        results = [f.result(timeout=30) for f in futures]
    assert all(isinstance(r, Entry) for r in results), results
    assert [r.revision for r in results] == [2, 2]
    assert [c.op for c in a.changes()] == ["create", "update"]


def test_many_concurrent_single_writes_each_get_their_own_result(
    registry: Registry, make_doc: MakeDoc
) -> None:
    registry.register(make_doc("service:edge/taken@1.0.0"))
    n = 16
    calls: list[Callable[[], Any]] = [
        lambda i=i: registry.register(make_doc(f"service:edge/s{i}@1.0.0"), actor=f"user{i}")
        for i in range(n)
    ]
    calls.append(lambda: registry.register(make_doc("service:edge/taken@1.0.0"), actor="late"))
    results = race(calls)
    created = results[:n]
    assert [str(e.ref) for e in created] == [f"service:edge/s{i}@1.0.0" for i in range(n)]
    assert len({e.uid for e in created}) == n
    assert isinstance(results[n], AlreadyExists)
    log = registry.changes(since=1)
    assert sorted((c.actor, c.ref) for c in log) == sorted(
        (f"user{i}", f"service:edge/s{i}@1.0.0") for i in range(n)
    )
    assert registry.count() == n + 1


def test_creates_awaited_on_an_event_loop_share_commits_and_get_their_own_result(
    registry: Registry, make_doc: MakeDoc
) -> None:
    """``commit_later`` from a running loop: each caller its result or refusal, the writes
    of one commit handed to the loop together."""
    import asyncio

    registry.register(make_doc("service:edge/taken@1.0.0"))
    n = 24

    async def create(ref: str, actor: str) -> Entry | HyperRegistryError:
        try:
            item = registry.prepare_create(make_doc(ref), actor=actor)
            pending = registry.commit_later(item)
            assert pending is not None
            result = await pending
        except HyperRegistryError as exc:
            return exc
        return result.entry if result.entry is not None else registry.get(result.ref)

    async def main() -> list[Entry | HyperRegistryError]:
        calls = [create(f"service:edge/s{i}@1.0.0", f"user{i}") for i in range(n)]
        calls.append(create("service:edge/taken@1.0.0", "late"))
        return await asyncio.gather(*calls)

    results = asyncio.run(main())
    created = results[:n]
    assert [str(e.ref) for e in created if isinstance(e, Entry)] == [
        f"service:edge/s{i}@1.0.0" for i in range(n)
    ]
    assert isinstance(results[n], AlreadyExists)
    assert sorted((c.actor, c.ref) for c in registry.changes(since=1)) == sorted(
        (f"user{i}", f"service:edge/s{i}@1.0.0") for i in range(n)
    )
    commits = {c.at for c in registry.changes(since=1)}
    assert len(commits) < n  # they shared commits (one timestamp per commit)
