"""GET /v1/entries: filters across kinds and cursor pagination."""

from __future__ import annotations

import pytest

from hyper_registry import Registry

from .conftest import Api, assert_problem, doc


@pytest.fixture
def seeded(reg: Registry) -> Registry:
    reg.apply(
        doc(
            "model:team-a/fraud@1.0.0",
            owner="risk",
            labels={"tier": "gold"},
            tags=["pci"],
            title="Fraud scorer",
            spec={"task": "classification"},
        )
    )
    reg.apply(
        doc(
            "model:team-a/fraud@2.0.0",
            owner="risk",
            labels={"tier": "gold"},
            tags=["pci", "xgb"],
            title="Fraud scorer",
            spec={"task": "classification"},
        )
    )
    reg.apply(
        doc(
            "model:team-b/churn@1.0.0",
            owner="growth",
            labels={"tier": "silver"},
            description="Predicts churn",
            spec={"task": "regression"},
        )
    )
    reg.apply(doc("dataset:team-a/rows@2024-01", owner="risk", labels={"tier": "gold"}))
    reg.apply(doc("service:team-b/api@1.0.0", owner="growth"))
    return reg


def refs(response: object) -> list[str]:
    body = response.json()  # type: ignore[attr-defined]
    return sorted(
        f"{e['kind']}:{e['metadata']['namespace']}/{e['metadata']['name']}@{e['metadata']['version']}"
        for e in body["items"]
    )


def test_list_latest_versions(api: Api, seeded: Registry) -> None:
    r = api.get("/v1/entries")
    assert r.status_code == 200
    assert r.json()["nextCursor"] is None
    assert refs(r) == [
        "dataset:team-a/rows@2024-01",
        "model:team-a/fraud@2.0.0",
        "model:team-b/churn@1.0.0",
        "service:team-b/api@1.0.0",
    ]
    assert len(refs(api.get("/v1/entries?allVersions=true"))) == 5


def test_filters(api: Api, seeded: Registry) -> None:
    assert refs(api.get("/v1/entries?kind=dataset&kind=service")) == [
        "dataset:team-a/rows@2024-01",
        "service:team-b/api@1.0.0",
    ]
    assert refs(api.get("/v1/entries?namespace=team-b&kind=model")) == ["model:team-b/churn@1.0.0"]
    assert refs(api.get("/v1/entries?owner=growth")) == [
        "model:team-b/churn@1.0.0",
        "service:team-b/api@1.0.0",
    ]
    assert refs(api.get("/v1/entries?label=tier=gold&kind=model")) == ["model:team-a/fraud@2.0.0"]
    assert refs(api.get("/v1/entries?tag=pci&tag=xgb")) == ["model:team-a/fraud@2.0.0"]
    assert refs(api.get("/v1/entries?q=CHURN")) == ["model:team-b/churn@1.0.0"]
    assert refs(api.get("/v1/entries?q=scorer")) == ["model:team-a/fraud@2.0.0"]
    assert refs(api.get("/v1/entries?spec.task=regression")) == ["model:team-b/churn@1.0.0"]
    assert refs(api.get("/v1/entries?name=fraud&allVersions=true")) == [
        "model:team-a/fraud@1.0.0",
        "model:team-a/fraud@2.0.0",
    ]


def test_bad_filters_are_422(api: Api, seeded: Registry) -> None:
    assert_problem(api.get("/v1/entries?label=novalue"), 422)
    assert_problem(api.get("/v1/entries?kind=gizmo"), 422)
    p = assert_problem(api.get("/v1/entries?spec.a..b=1"), 422)
    assert p["errors"]
    p = assert_problem(api.get("/v1/entries?colour=red"), 422)
    assert p["errors"][0]["path"] == "query.colour"
    assert p["errors"][0]["code"] == "unknown-field"
    assert_problem(api.get("/v1/entries?allVersions=maybe"), 422)


def test_pagination_with_cursor(api: Api, reg: Registry) -> None:
    for i in range(7):
        reg.apply(doc(f"dataset:pages/d{i}@v1"))
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        url = "/v1/entries?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = api.get(url).json()
        pages += 1
        seen.extend(e["metadata"]["name"] for e in body["items"])
        cursor = body["nextCursor"]
        if cursor is None:
            break
        assert isinstance(cursor, str)
    assert pages == 3
    assert sorted(seen) == [f"d{i}" for i in range(7)]


def test_limit_over_the_cap_is_422_not_clamped(api: Api, reg: Registry) -> None:
    cap = reg.settings.max_page_size
    assert api.get(f"/v1/entries?limit={cap}").status_code == 200
    p = assert_problem(api.get(f"/v1/entries?limit={cap + 1}"), 422)
    assert p["errors"][0]["path"] == "query.limit"
    assert_problem(api.get("/v1/entries?limit=0"), 422)


def test_bad_cursor_is_422(api: Api) -> None:
    for cursor in ("UPPER", "c1.!!!", "-1", "x" * 13, ""):
        p = assert_problem(api.get(f"/v1/entries?cursor={cursor}"), 422)
        assert p["errors"][0]["path"] == "query.cursor"
