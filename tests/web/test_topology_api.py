"""``GET /v1/topology`` and ``/v1/topology/seq``: nodes, edges, filters, caps, visibility
(on SQLite and PostgreSQL through the ``registry`` fixture)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hyper_registry import Registry
from hyper_registry.api import create_app
from hyper_registry.api.routes.topology import snapshot

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

MakeDoc = Callable[..., dict[str, Any]]


@pytest.fixture
def graph(registry: Registry, make_doc: MakeDoc) -> Registry:
    registry.apply_many(
        [
            make_doc("service:team-a/api@1.0.0", relations=[("calls", "service:team-a/db")]),
            make_doc("service:team-a/api@1.1.0", relations=[("calls", "service:team-a/db")]),
            make_doc("service:team-a/db@2.0.0"),
            make_doc("model:team-b/fraud@1.0.0"),
            make_doc(
                "service:team-b/scorer@1.0.0",
                relations=[("uses", "model:team-b/fraud@1.0.0"), ("calls", "service:team-a/api")],
            ),
            make_doc("service:team-a/ghost@1.0.0", relations=[("calls", "service:team-z/gone")]),
        ],
        actor="test",
    )
    return registry


@pytest.fixture
def client(graph: Registry) -> Iterator[tuple[TestClient, dict[str, str]]]:
    tokens = {
        "all": graph.tokens.create("all", "reader")[1],
        "a": graph.tokens.create("only-a", "reader", ["team-a"])[1],
    }
    with TestClient(create_app(graph)) as c:
        yield c, tokens


def by_ref(body: dict[str, Any]) -> tuple[set[str], set[tuple[str, str, str]]]:
    refs = [n["ref"] for n in body["nodes"]]
    return set(refs), {(refs[e["source"]], refs[e["target"]], e["type"]) for e in body["edges"]}


def test_every_entry_is_a_node_and_every_resolved_relation_an_edge(graph: Registry) -> None:
    body = snapshot(graph, kinds=None, namespace=None, visible=None, latest_only=False, limit=100)
    nodes, edges = by_ref(body)
    assert nodes == {
        "service:team-a/api@1.0.0",
        "service:team-a/api@1.1.0",
        "service:team-a/db@2.0.0",
        "model:team-b/fraud@1.0.0",
        "service:team-b/scorer@1.0.0",
        "service:team-a/ghost@1.0.0",
    }
    # The unregistered target of ghost is no node and no edge; "calls api" means the latest.
    assert edges == {
        ("service:team-a/api@1.0.0", "service:team-a/db@2.0.0", "calls"),
        ("service:team-a/api@1.1.0", "service:team-a/db@2.0.0", "calls"),
        ("service:team-b/scorer@1.0.0", "model:team-b/fraud@1.0.0", "uses"),
        ("service:team-b/scorer@1.0.0", "service:team-a/api@1.1.0", "calls"),
    }
    latest = {n["ref"]: n["latest"] for n in body["nodes"]}
    assert latest["service:team-a/api@1.0.0"] is False
    assert latest["service:team-a/api@1.1.0"] is True
    assert body["truncated"] is False
    assert body["seq"] == max(c.seq for c in graph.changes())


def test_filters_cap_and_latest(graph: Registry) -> None:
    only_models = snapshot(
        graph, kinds=["model"], namespace=None, visible=None, latest_only=False, limit=100
    )
    assert [n["ref"] for n in only_models["nodes"]] == ["model:team-b/fraud@1.0.0"]
    assert only_models["edges"] == []
    latest = snapshot(
        graph, kinds=None, namespace="team-a", visible=None, latest_only=True, limit=100
    )
    nodes, edges = by_ref(latest)
    assert nodes == {
        "service:team-a/api@1.1.0",
        "service:team-a/db@2.0.0",
        "service:team-a/ghost@1.0.0",
    }
    assert edges == {("service:team-a/api@1.1.0", "service:team-a/db@2.0.0", "calls")}
    capped = snapshot(graph, kinds=None, namespace=None, visible=None, latest_only=False, limit=2)
    assert len(capped["nodes"]) == 2 and capped["truncated"] is True
    for e in capped["edges"]:
        assert 0 <= e["source"] < 2 and 0 <= e["target"] < 2


def test_a_scoped_token_sees_only_its_namespaces(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, tokens = client
    r = c.get("/v1/topology", headers={"Authorization": f"Bearer {tokens['a']}"})
    assert r.status_code == 200
    nodes, edges = by_ref(r.json())
    assert all(n.startswith("service:team-a/") for n in nodes)
    assert not any("team-b" in s or "team-b" in t for s, t, _ in edges)
    seq_a = c.get("/v1/topology/seq", headers={"Authorization": f"Bearer {tokens['a']}"})
    seq_all = c.get("/v1/topology/seq", headers={"Authorization": f"Bearer {tokens['all']}"})
    assert seq_a.json()["seq"] <= seq_all.json()["seq"]
    assert seq_all.json()["seq"] > 0


def test_http_checks_auth_and_parameters(client: tuple[TestClient, dict[str, str]]) -> None:
    c, tokens = client
    assert c.get("/v1/topology").status_code == 401
    assert c.get("/v1/topology/seq").status_code == 401
    auth = {"Authorization": f"Bearer {tokens['all']}"}
    assert c.get("/v1/topology", params={"limit": 0}, headers=auth).status_code == 422
    assert c.get("/v1/topology", params={"limit": 10**6}, headers=auth).status_code == 422
    assert c.get("/v1/topology", params={"namespace": "Bad/NS"}, headers=auth).status_code == 422
    assert c.get("/v1/topology", params={"colour": "red"}, headers=auth).status_code == 422
    r = c.get(
        "/v1/topology",
        params=[("kind", "service"), ("kind", "model"), ("latest", "true")],
        headers=auth,
    )
    assert r.status_code == 200
    assert {n["kind"] for n in r.json()["nodes"]} == {"service", "model"}
