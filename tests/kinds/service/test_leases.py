"""Leases: with two workers on one PostgreSQL, each service is checked by exactly one worker
at a time, work is shared, and a worker that dies hands its services over.

Runs on real PostgreSQL (fails under CI=true when it is unreachable, like every PostgreSQL
test); the same logic also runs once on SQLite.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from hyper_registry import Registry, Settings
from hyper_registry.kinds.service.checker import HealthChecker
from hyper_registry.kinds.service.tables import leases, results

from .conftest import FAST, service_doc, wait_for
from .servers import HealthServer

SERVICES = 12


def owners(reg: Registry) -> dict[str, str | None]:
    with reg.store.engine.connect() as conn:
        return {r.ref: r.owner for r in conn.execute(sa.select(leases.c.ref, leases.c.owner))}


def workers_by_service(reg: Registry) -> dict[str, list[str]]:
    """Each service's result workers in check order."""
    out: dict[str, list[str]] = {}
    with reg.store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(results.c.ref, results.c.worker).order_by(results.c.at, results.c.id)
        )
        for row in rows:
            out.setdefault(row.ref, []).append(row.worker)
    return out


def switches(sequence: list[str]) -> int:
    """How often the checking worker changed: a service moves at most once here."""
    return sum(1 for x, y in itertools.pairwise(sequence) if x != y)


def two_workers(settings: Settings, server: HealthServer) -> None:
    reg_a = Registry.open(settings.model_copy(update=FAST))
    reg_b = Registry.open(settings.model_copy(update=FAST))
    a = HealthChecker(reg_a, worker_id="worker-a")
    b = HealthChecker(reg_b, worker_id="worker-b")
    try:
        for i in range(SERVICES):
            reg_a.register(service_doc(f"svc-{i}", server.endpoint(), path=f"/svc/{i}"))
        a.start()
        wait_for(lambda: set(owners(reg_a).values()) == {"worker-a"}, what="a owns everything")
        b.start()
        # work is shared: b takes its fair half from a
        wait_for(
            lambda: list(owners(reg_a).values()).count("worker-b") == SERVICES // 2,
            what="b owns half",
        )
        wait_for(lambda: all("worker-b" in w for w in _of_b(reg_a)), what="b checks its half")
        # no service is checked by both: a service's checks move from a to b once, never back
        for ref, seq in workers_by_service(reg_a).items():
            assert switches(seq) <= 1, (ref, seq)
        # a dies without giving its leases back: b takes them over
        a.stop(release=False)
        died = {ref: len(seq) for ref, seq in workers_by_service(reg_a).items()}
        wait_for(lambda: set(owners(reg_a).values()) == {"worker-b"}, what="b owns everything")
        wait_for(
            lambda: all(
                seq[-1] == "worker-b" and len(seq) > died.get(ref, 0)
                for ref, seq in workers_by_service(reg_a).items()
            ),
            what="b checks every service",
        )
        for ref, seq in workers_by_service(reg_a).items():
            assert switches(seq) <= 1, (ref, seq)
    finally:
        a.stop()
        b.stop()
        reg_a.close()
        reg_b.close()


def _of_b(reg: Registry) -> list[list[str]]:
    mine = {ref for ref, owner in owners(reg).items() if owner == "worker-b"}
    by = workers_by_service(reg)
    return [by.get(ref, []) for ref in mine]


@pytest.mark.postgres
def test_two_workers_on_postgresql(postgres_url: str, tmp_path: Path, server: HealthServer) -> None:
    two_workers(Settings(data_dir=tmp_path / "data", database_url=postgres_url), server)


def test_two_workers_on_sqlite(tmp_path: Path, server: HealthServer) -> None:
    two_workers(Settings(data_dir=tmp_path / "data", database_url=None), server)


def test_clean_stop_gives_leases_back(
    open_registry: Callable[..., Registry], server: HealthServer
) -> None:
    reg = open_registry(**FAST)
    reg.register(service_doc("one", server.endpoint()))
    checker = HealthChecker(reg, worker_id="w1")
    checker.start()
    wait_for(lambda: owners(reg) == {"service:shop/one@1.0.0": "w1"}, what="w1 owns one")
    checker.stop()
    assert owners(reg) == {"service:shop/one@1.0.0": None}
