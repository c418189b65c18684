"""Service health routes: health and SLA, history, manual check, topology; visibility."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hyper_registry import Registry, Settings
from kinds.service.servers import HealthServer

from .conftest import Api, Tokens, assert_problem


@pytest.fixture
def reg(tmp_path: Path) -> Iterator[Registry]:
    """The API tests' registry, with loopback health checks allowed (the test server)."""
    registry = Registry.open(
        Settings(data_dir=tmp_path / "data", database_url=None, checker_allow_loopback=True)
    )
    try:
        yield registry
    finally:
        registry.close()


@pytest.fixture
def server() -> Iterator[HealthServer]:
    srv = HealthServer()
    try:
        yield srv
    finally:
        srv.close()


def svc(ns: str, name: str, endpoint: str, path: str = "/ok", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "hyper-registry/v1",
        "kind": "service",
        "metadata": {"namespace": ns, "name": name, "version": "1.0.0"},
        "spec": {
            "endpoints": [endpoint],
            "healthCheck": {"path": path, "interval": "30s", "timeout": "2s"},
            "sla": {"availability": 99.5},
            **spec,
        },
    }


@pytest.fixture
def shop(reg: Registry, server: HealthServer) -> Registry:
    istio = {"enabled": True, "provider": "istio", "mtls": True}
    reg.register(svc("team-a", "orders", server.endpoint(), "/fail", mesh=istio))
    reg.register(
        svc("team-a", "gateway", server.endpoint(), mesh=istio, calls=["service:team-a/orders"])
    )
    reg.register(svc("team-b", "billing", server.endpoint(), calls=["service:team-a/orders"]))
    reg.register(svc("team-a", "cart", server.endpoint(), calls=["service:team-b/billing"]))
    return reg


def test_manual_check_then_health(api: Api, shop: Registry) -> None:
    r = api.post("/v1/services/team-a/orders/check")
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["ref"], result["status"], result["message"]) == (
        "service:team-a/orders@1.0.0",
        "critical",
        "HTTP 500",
    )
    health = api.get("/v1/services/team-a/orders/health").json()
    assert health["ref"] == "service:team-a/orders@1.0.0"
    assert health["current"]["status"] == "critical"
    assert health["current"]["since"] == result["at"]
    assert health["healthCheck"]["path"] == "/fail"
    assert health["sla"] == {"availability": 99.5}
    assert health["availability"]["1h"] == {
        "checks": 1,
        "up": 0,
        "availability": 0.0,
        "sla": "breached",
    }
    assert set(health["availability"]) == {"1h", "24h", "7d", "30d"}
    assert health["dependents"] == [  # transitive: cart calls billing, which calls orders
        "service:team-a/cart@1.0.0",
        "service:team-a/gateway@1.0.0",
        "service:team-b/billing@1.0.0",
    ]
    assert [h["status"] for h in health["history"]] == ["critical"]
    one = api.get("/v1/services/team-a/orders/versions/1.0.0/history?limit=5").json()
    assert one["ref"] == "service:team-a/orders@1.0.0"
    assert [h["message"] for h in one["items"]] == ["HTTP 500"]
    # the change to critical is in the change log, naming the dependents
    changes = api.get("/v1/changes").json()
    items = changes["items"] if isinstance(changes, dict) else changes
    event = next(c for c in items if c["op"] == "service.health")
    assert event["namespace"] == "team-a"
    assert event["detail"]["dependents"] == [
        "service:team-a/cart@1.0.0",
        "service:team-a/gateway@1.0.0",
    ]
    assert event["detail"]["dependentsElsewhere"] == 1  # billing, in team-b: counted, not named


def test_visibility_and_roles(api: Api, tokens: Tokens, shop: Registry) -> None:
    reader_a = api.as_(tokens.reader_a)
    assert_problem(reader_a.get("/v1/services/team-b/billing/health"), 404)
    assert_problem(reader_a.get("/v1/services/team-b/billing/history"), 404)
    assert_problem(api.as_(tokens.writer_a).post("/v1/services/team-b/billing/check"), 404)
    assert_problem(reader_a.post("/v1/services/team-a/orders/check"), 403)
    # dependents in (or reached through) namespaces the token cannot see are left out
    assert reader_a.get("/v1/services/team-a/orders/health").json()["dependents"] == [
        "service:team-a/gateway@1.0.0"
    ]
    assert_problem(api.get("/v1/services/team-a/nothing/health"), 404)
    assert_problem(api.get("/v1/services/team-a/orders/health?limit=5000"), 422)
    assert_problem(api.get("/v1/services/team-a/orders/health?bogus=1"), 422)
    assert_problem(api.as_(None).get("/v1/services/topology"), 401)


def test_topology(api: Api, tokens: Tokens, shop: Registry) -> None:
    topo = api.get("/v1/services/topology").json()
    assert [n["name"] for n in topo["nodes"]] == [
        "service:team-a/cart",
        "service:team-a/gateway",
        "service:team-a/orders",
        "service:team-b/billing",
    ]
    edges = {(e["from"], e["to"]): (e["meshed"], e["mtls"]) for e in topo["edges"]}
    assert edges == {
        ("service:team-a/gateway", "service:team-a/orders"): (True, True),
        ("service:team-b/billing", "service:team-a/orders"): (False, False),
        ("service:team-a/cart", "service:team-b/billing"): (False, False),
    }
    assert topo["meshes"] == {"istio": ["service:team-a/gateway", "service:team-a/orders"]}
    scoped = api.as_(tokens.reader_a).get("/v1/services/topology").json()
    assert all(n["name"].startswith("service:team-a/") for n in scoped["nodes"])
    assert all("team-b" not in e["from"] + e["to"] for e in scoped["edges"])


def test_check_refused_by_the_ssrf_guard(api: Api, reg: Registry) -> None:
    reg.settings.checker_allow_loopback = False
    reg.register(svc("team-a", "local", "http://localhost:9"))
    result = api.post("/v1/services/team-a/local/check").json()
    assert result["status"] == "critical"
    assert "SSRF guard" in result["message"]


def test_the_app_runs_the_checker_for_its_lifetime(reg: Registry, server: HealthServer) -> None:
    from fastapi.testclient import TestClient

    from hyper_registry.api import create_app
    from hyper_registry.kinds.service import history

    reg.settings.checker_test_interval = 0.2
    reg.settings.checker_tick_seconds = 0.05
    reg.register(svc("team-a", "orders", server.endpoint(), "/ok"))
    app = create_app(reg, health_checks=True)
    with TestClient(app):
        deadline = time.monotonic() + 30
        while not history.current_state(reg.store.engine, "service:team-a/orders@1.0.0"):
            assert time.monotonic() < deadline, "the in-app checker checked nothing"
            time.sleep(0.05)
    hits = server.stats.hits["/ok"]
    time.sleep(0.5)  # stopped with the app: no check after shutdown
    assert server.stats.hits["/ok"] == hits
