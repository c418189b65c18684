"""The checker over a registry (SQLite and PostgreSQL): history, status, events, unregister."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from hyper_registry import Invalid, Registry
from hyper_registry.kinds.service import history
from hyper_registry.kinds.service.checker import EVENT, HealthChecker
from hyper_registry.kinds.service.tables import checks, leases, results

from .conftest import FAST, service_doc, wait_for
from .servers import HealthServer

OpenRegistry = Callable[..., Registry]


@pytest.fixture
def fast_registry(open_registry: OpenRegistry) -> Registry:
    return open_registry(**FAST)


@pytest.fixture
def checker(fast_registry: Registry) -> Iterator[Callable[[], HealthChecker]]:
    started: list[HealthChecker] = []

    def start() -> HealthChecker:
        c = HealthChecker(fast_registry)
        c.start()
        started.append(c)
        return c

    yield start
    for c in started:
        c.stop()


def count(reg: Registry, ref: str) -> int:
    with reg.store.engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).select_from(results).where(results.c.ref == ref)
            ).scalar_one()
        )


def events(reg: Registry) -> list[dict[str, Any]]:
    return [c.detail or {} for c in reg.changes(0, 10_000) if c.op == EVENT]


def test_results_state_status_and_events(
    fast_registry: Registry, checker: Callable[[], HealthChecker], server: HealthServer
) -> None:
    reg = fast_registry
    reg.register(service_doc("orders", server.endpoint(), path="/flap"))
    reg.register(service_doc("gateway", server.endpoint(), calls=["service:shop/orders"]))
    reg.register(
        service_doc("payments", server.endpoint(), path="/fail", calls=["service:shop/orders"])
    )
    checker()
    orders = "service:shop/orders@1.0.0"
    wait_for(lambda: count(reg, orders) >= 4, what="four checks of orders")
    wait_for(lambda: count(reg, "service:shop/payments@1.0.0") >= 1, what="payments checked")

    flap = [h["status"] for h in history.recent(reg.store.engine, orders, limit=4)]
    assert set(flap) == {"passing", "critical"}
    state = history.current_state(reg.store.engine, orders)
    assert state is not None and state["status"] in ("passing", "critical")

    # a change to critical names the service and its dependents
    wait_for(lambda: any(e["service"] == orders and e["status"] == "critical" for e in events(reg)))
    critical = next(e for e in events(reg) if e["service"] == orders and e["status"] == "critical")
    assert critical["dependents"] == [
        "service:shop/gateway@1.0.0",
        "service:shop/payments@1.0.0",
    ]
    failing = next(e for e in events(reg) if e["service"] == "service:shop/payments@1.0.0")
    assert (failing["status"], failing["previous"], failing["message"]) == (
        "critical",
        None,
        "HTTP 500",
    )

    # the entry's status carries the current health and its last change
    gateway = reg.get("service:shop/gateway@1.0.0")
    assert gateway.status["health"]["status"] == "passing"
    assert gateway.status["health"]["since"].endswith("Z")
    # a healthy service never emits a service.health event
    assert not [e for e in events(reg) if e["service"] == "service:shop/gateway@1.0.0"]


def test_unregistering_stops_checks_at_once(
    fast_registry: Registry, checker: Callable[[], HealthChecker], server: HealthServer
) -> None:
    reg = fast_registry
    reg.register(service_doc("orders", server.endpoint(), path="/ok"))
    reg.register(service_doc("other", server.endpoint(), path="/slow"))
    running = checker()
    ref = "service:shop/orders@1.0.0"
    wait_for(lambda: count(reg, ref) >= 2, what="two checks")
    reg.unregister(ref)
    assert ref not in running.targets  # the hook told the checker before unregister returned
    with reg.store.engine.connect() as conn:
        assert conn.execute(sa.select(leases).where(leases.c.ref == ref)).first() is None
        assert conn.execute(sa.select(checks).where(checks.c.ref == ref)).first() is None
    after = server.stats.hits["/ok"]
    # the other service keeps being checked; the unregistered one is not
    slow = server.stats.hits["/slow"]
    wait_for(lambda: server.stats.hits["/slow"] >= slow + 3, what="three more checks of other")
    assert server.stats.hits["/ok"] == after


def test_a_changed_spec_is_picked_up(
    fast_registry: Registry, checker: Callable[[], HealthChecker], server: HealthServer
) -> None:
    reg = fast_registry
    reg.register(service_doc("orders", server.endpoint(), path="/ok"))
    checker()
    wait_for(lambda: server.stats.hits["/ok"] >= 1, what="a check of /ok")
    reg.update(service_doc("orders", server.endpoint(), path="/busy"))
    wait_for(lambda: server.stats.hits["/busy"] >= 1, what="a check of the new path")
    ref = "service:shop/orders@1.0.0"
    wait_for(
        lambda: (history.current_state(reg.store.engine, ref) or {}).get("status") == "warning",
        what="warning",
    )


def test_a_service_without_health_check_is_not_checked(
    fast_registry: Registry, checker: Callable[[], HealthChecker], server: HealthServer
) -> None:
    reg = fast_registry
    doc = service_doc("quiet", server.endpoint())
    del doc["spec"]["healthCheck"]
    reg.register(doc)
    reg.register(service_doc("loud", server.endpoint(), path="/slow"))
    running = checker()
    wait_for(lambda: server.stats.hits["/slow"] >= 2, what="checks of loud")
    assert set(running.targets) == {"service:shop/loud@1.0.0"}
    assert count(reg, "service:shop/quiet@1.0.0") == 0


def test_manual_check_stores_a_result(fast_registry: Registry, server: HealthServer) -> None:
    import asyncio

    from hyper_registry.kinds.service.checker import check_now

    reg = fast_registry
    entry = reg.register(service_doc("orders", server.endpoint(), path="/fail"))
    result = asyncio.run(check_now(reg, entry, "alice"))
    assert (result["status"], result["message"]) == ("critical", "HTTP 500")
    assert history.recent(reg.store.engine, str(entry.ref))[0]["worker"] == "manual:alice"
    assert events(reg)[0]["status"] == "critical"
    bare = reg.register(
        {**service_doc("bare", server.endpoint()), "spec": {"endpoints": [server.endpoint()]}}
    )
    with pytest.raises(Invalid, match="has no health check"):
        asyncio.run(check_now(reg, bare, "alice"))


def test_retention_purges_old_results(fast_registry: Registry) -> None:
    engine = fast_registry.store.engine
    now = time.time()
    rows = [
        {
            "ref": "service:a/b@1.0.0",
            "at": now - age,
            "status": "passing",
            "latency_ms": 1.0,
            "message": "HTTP 200",
            "worker": "w",
        }
        for age in (10, 86400 * 31, 86400 * 40)
    ]
    with engine.begin() as conn:
        conn.execute(results.insert(), rows)
    assert history.purge(engine, now - 30 * 86400, batch=1) == 2
    assert count(fast_registry, "service:a/b@1.0.0") == 1


def test_availability_windows(fast_registry: Registry) -> None:
    engine = fast_registry.store.engine
    now = time.time()
    ref = "service:a/b@1.0.0"

    def row(age: float, status: str) -> dict[str, Any]:
        return {
            "ref": ref,
            "at": now - age,
            "status": status,
            "latency_ms": 1.0,
            "message": "",
            "worker": "w",
        }

    rows = [row(60 * i, "passing") for i in range(1, 10)] + [row(30, "warning")]
    rows += [row(7200, "critical"), row(86400 * 2, "critical"), row(86400 * 10, "critical")]
    with engine.begin() as conn:
        conn.execute(results.insert(), rows)
    got = history.availability(engine, ref, 99.0, now)
    assert {k: (v["checks"], v["up"]) for k, v in got.items()} == {
        "1h": (10, 10),
        "24h": (11, 10),
        "7d": (12, 10),
        "30d": (13, 10),
    }
    assert got["1h"]["availability"] == 100.0 and got["1h"]["sla"] == "met"
    assert got["24h"]["sla"] == "breached"
    assert history.availability(engine, "service:a/none@1.0.0", 99.0, now)["1h"]["sla"] == "unknown"


@pytest.mark.parametrize(
    ("value", "target", "verdict"),
    [
        (100.0, 99.9, "met"),
        (99.96, 99.9, "met"),
        (99.92, 99.9, "at risk"),  # 80% of the 0.1% budget used
        (99.9, 99.9, "at risk"),
        (99.89, 99.9, "breached"),
        (None, 99.9, "unknown"),
        (50.0, None, None),
    ],
)
def test_sla_verdict(value: float | None, target: float | None, verdict: str | None) -> None:
    assert history.sla_verdict(value, target) == verdict
