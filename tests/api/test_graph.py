"""GET /v1/graph/...: dependencies, dependents and impact."""

from __future__ import annotations

import pytest

from hyper_registry import Registry

from .conftest import Api, assert_problem, doc


@pytest.fixture
def chain(reg: Registry) -> Registry:
    """service -uses-> model -trainedOn-> dataset -derivedFrom-> raw dataset."""
    reg.apply(doc("dataset:team-a/raw@v1"))
    reg.apply(doc("dataset:team-a/rows@v1", relations=[("derivedFrom", "dataset:team-a/raw@v1")]))
    reg.apply(doc("model:team-a/fraud@1.0.0", relations=[("trainedOn", "dataset:team-a/rows@v1")]))
    reg.apply(doc("service:team-a/api@1.0.0", relations=[("uses", "model:team-a/fraud@1.0.0")]))
    return reg


def test_dependencies(api: Api, chain: Registry) -> None:
    r = api.get("/v1/graph/service/team-a/api/dependencies")
    assert r.status_code == 200
    body = r.json()
    assert body["root"] == "service:team-a/api@1.0.0"
    hits = {h["ref"]: h for h in body["dependencies"]}
    assert set(hits) == {
        "model:team-a/fraud@1.0.0",
        "dataset:team-a/rows@v1",
        "dataset:team-a/raw@v1",
    }
    assert hits["dataset:team-a/raw@v1"]["depth"] == 3
    assert [p["relation"] for p in hits["dataset:team-a/raw@v1"]["path"]] == [
        "uses",
        "trainedOn",
        "derivedFrom",
    ]


def test_depth_and_kind_filters(api: Api, chain: Registry) -> None:
    one = api.get("/v1/graph/service/team-a/api/dependencies?depth=1").json()
    assert [h["ref"] for h in one["dependencies"]] == ["model:team-a/fraud@1.0.0"]
    ds = api.get("/v1/graph/service/team-a/api/dependencies?kind=dataset").json()
    assert {h["ref"] for h in ds["dependencies"]} == {
        "dataset:team-a/rows@v1",
        "dataset:team-a/raw@v1",
    }


def test_dependents_and_impact(api: Api, chain: Registry) -> None:
    dep = api.get("/v1/graph/dataset/team-a/raw/versions/v1/dependents").json()
    assert dep["root"] == "dataset:team-a/raw@v1"
    assert {h["ref"] for h in dep["dependents"]} == {
        "dataset:team-a/rows@v1",
        "model:team-a/fraud@1.0.0",
        "service:team-a/api@1.0.0",
    }
    impact = api.get("/v1/graph/dataset/team-a/raw/impact").json()
    assert "affected" in impact and "dependents" not in impact
    assert "service:team-a/api@1.0.0" in {h["ref"] for h in impact["affected"]}


def test_depth_cap_is_422(api: Api, chain: Registry, reg: Registry) -> None:
    cap = reg.settings.max_graph_depth
    assert api.get(f"/v1/graph/service/team-a/api/impact?depth={cap}").status_code == 200
    p = assert_problem(api.get(f"/v1/graph/service/team-a/api/impact?depth={cap + 1}"), 422)
    assert p["errors"][0]["path"] == "query.depth"
    assert_problem(api.get("/v1/graph/service/team-a/api/impact?depth=0"), 422)


def test_bad_mode_and_missing_root(api: Api, chain: Registry) -> None:
    assert_problem(api.get("/v1/graph/service/team-a/api/everything"), 422)
    p = assert_problem(api.get("/v1/graph/service/team-a/none/impact"), 404)
    assert p["detail"] == "service:team-a/none not found"
    assert_problem(api.get("/v1/graph/service/team-a/api/impact?kind=gizmo"), 422)
