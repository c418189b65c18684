"""``Registry.query``: every filter, latest versus all versions, and cursor pagination (both backends)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hyper_registry import Invalid, Query, Registry

MakeDoc = Callable[..., dict[str, Any]]


@pytest.fixture
def catalog(registry: Registry, make_doc: MakeDoc) -> Registry:
    registry.apply_many(
        [
            make_doc(
                "service:edge/gw@1.0.0",
                title="Public API gateway",
                owner="team-edge",
                labels={"tier": "gold"},
                tags=["http"],
            ),
            make_doc(
                "service:edge/gw@1.1.0",
                title="Public API gateway",
                description="Routes requests to the ORDER service.",
                owner="team-edge",
                labels={"tier": "gold", "app.kubernetes.io/name": "gw"},
                tags=["http", "public"],
                spec={
                    "mesh": {"enabled": True, "provider": "istio"},
                    "sla": {"availability": 99.95},
                },
            ),
            make_doc(
                "service:shop/orders@2.0.0",
                title="Orders",
                owner="team-shop",
                labels={"tier": "silver"},
                tags=["http"],
                spec={"mesh": {"enabled": False, "provider": "linkerd"}},
            ),
            make_doc("model:shop/det@1.0.0", owner="team-trust", tags=["xgboost"]),
            make_doc("model:shop/det@1.10.0", owner="team-trust", tags=["xgboost", "pci"]),
            make_doc("model:shop/ranker@1.0.0", spec={"framework": "pytorch"}, title="100% ranker"),
            make_doc("dataset:lake/raw_events@2026-01", title="Raw events"),
        ]
    )
    return registry


def refs(registry: Registry, query: Query | None = None, **filters: Any) -> list[str]:
    page = registry.query(query, **filters)
    assert page.next_cursor is None
    return sorted(str(e.ref) for e in page.items)


def test_latest_versions_by_default(catalog: Registry) -> None:
    assert refs(catalog) == [
        "dataset:lake/raw_events@2026-01",
        "model:shop/det@1.10.0",
        "model:shop/ranker@1.0.0",
        "service:edge/gw@1.1.0",
        "service:shop/orders@2.0.0",
    ]
    assert catalog.count() == 5


def test_all_versions(catalog: Registry) -> None:
    assert len(refs(catalog, all_versions=True)) == 7
    assert refs(catalog, name="det", all_versions=True) == [
        "model:shop/det@1.0.0",
        "model:shop/det@1.10.0",
    ]
    assert catalog.count(all_versions=True) == 7


def test_kind_filter(catalog: Registry) -> None:
    assert refs(catalog, kinds=["model"]) == ["model:shop/det@1.10.0", "model:shop/ranker@1.0.0"]
    assert len(refs(catalog, kinds=["model", "dataset"])) == 3
    assert refs(catalog, kinds=["plugin"]) == []
    with pytest.raises(Invalid) as info:
        catalog.query(kinds=["widget"])
    assert info.value.problems[0].code == "unknown-kind"


def test_kind_registry_query(catalog: Registry) -> None:
    page = catalog.kind("service").query(namespace="edge", all_versions=True)
    assert sorted(str(e.ref) for e in page.items) == [
        "service:edge/gw@1.0.0",
        "service:edge/gw@1.1.0",
    ]


def test_namespace_and_visible_namespaces(catalog: Registry) -> None:
    assert refs(catalog, namespace="shop") == [
        "model:shop/det@1.10.0",
        "model:shop/ranker@1.0.0",
        "service:shop/orders@2.0.0",
    ]
    assert refs(catalog, visible_namespaces=["edge", "lake"]) == [
        "dataset:lake/raw_events@2026-01",
        "service:edge/gw@1.1.0",
    ]
    assert refs(catalog, namespace="shop", visible_namespaces=["edge"]) == []
    assert refs(catalog, visible_namespaces=[]) == []
    assert catalog.count(visible_namespaces=["lake"]) == 1


def test_owner_filter(catalog: Registry) -> None:
    assert refs(catalog, owner="team-edge") == ["service:edge/gw@1.1.0"]
    assert refs(catalog, owner="team-edge", all_versions=True) == [
        "service:edge/gw@1.0.0",
        "service:edge/gw@1.1.0",
    ]
    assert refs(catalog, owner="nobody") == []


def test_label_filters(catalog: Registry) -> None:
    assert refs(catalog, labels={"tier": "gold"}, all_versions=True) == [
        "service:edge/gw@1.0.0",
        "service:edge/gw@1.1.0",
    ]
    assert refs(catalog, labels={"tier": "silver"}) == ["service:shop/orders@2.0.0"]
    assert refs(catalog, labels={"tier": "gold", "app.kubernetes.io/name": "gw"}) == [
        "service:edge/gw@1.1.0"
    ]
    assert refs(catalog, labels={"tier": "gold", "app.kubernetes.io/name": "other"}) == []
    assert refs(catalog, labels={"missing": "x"}) == []


def test_tag_filters_need_every_tag(catalog: Registry) -> None:
    assert refs(catalog, tags=["http"]) == ["service:edge/gw@1.1.0", "service:shop/orders@2.0.0"]
    assert refs(catalog, tags=["http", "public"]) == ["service:edge/gw@1.1.0"]
    assert refs(catalog, tags=["pci"], all_versions=True) == ["model:shop/det@1.10.0"]
    assert refs(catalog, tags=["nope"]) == []


def test_text_filter_is_case_insensitive_over_name_title_description(catalog: Registry) -> None:
    assert refs(catalog, text="GATEWAY") == ["service:edge/gw@1.1.0"]
    assert refs(catalog, text="order") == ["service:edge/gw@1.1.0", "service:shop/orders@2.0.0"]
    assert refs(catalog, text="raw_ev") == ["dataset:lake/raw_events@2026-01"]


def test_text_filter_takes_like_wildcards_literally(catalog: Registry) -> None:
    assert refs(catalog, text="100%") == ["model:shop/ranker@1.0.0"]
    assert refs(catalog, text="%") == ["model:shop/ranker@1.0.0"]
    assert refs(catalog, text="raw_") == ["dataset:lake/raw_events@2026-01"]
    assert refs(catalog, text="c_api") == []  # '_' must not match the space in "Public API"
    assert refs(catalog, text="p%c") == []


def test_spec_field_equality(catalog: Registry) -> None:
    assert refs(catalog, spec={"framework": "pytorch"}) == ["model:shop/ranker@1.0.0"]
    assert refs(catalog, spec={"framework": "xgboost"}, all_versions=True) == [
        "model:shop/det@1.0.0",
        "model:shop/det@1.10.0",
    ]
    assert refs(catalog, spec={"mesh.provider": "istio"}) == ["service:edge/gw@1.1.0"]
    assert refs(catalog, spec={"sla.availability": "99.95"}) == ["service:edge/gw@1.1.0"]
    assert refs(catalog, spec={"mesh.provider": "istio", "framework": "xgboost"}) == []
    assert refs(catalog, spec={"no.such.field": "x"}) == []


def test_spec_boolean_equality_is_the_json_text(
    catalog: Registry, backend: str, request: pytest.FixtureRequest
) -> None:
    assert refs(catalog, spec={"mesh.enabled": "true"}) == ["service:edge/gw@1.1.0"]
    assert refs(catalog, spec={"mesh.enabled": "false"}) == ["service:shop/orders@2.0.0"]


@pytest.mark.parametrize("path", ["", "a..b", "a.b c", "a;drop", "x" * 65])
def test_malformed_spec_paths_are_refused(catalog: Registry, path: str) -> None:
    with pytest.raises(Invalid):
        catalog.query(spec={path: "x"})


def test_filters_combine(catalog: Registry) -> None:
    q = Query(kinds=["service"], namespace="edge", owner="team-edge", tags=["public"], text="api")
    assert refs(catalog, q) == ["service:edge/gw@1.1.0"]
    assert catalog.count(q) == 1


def test_cursor_pagination_visits_every_entry_once(catalog: Registry) -> None:
    seen: list[str] = []
    cursor: int | None = None
    pages = 0
    while True:
        page = catalog.query(Query(all_versions=True, limit=2, after=cursor))
        pages += 1
        assert len(page.items) <= 2
        seen.extend(str(e.ref) for e in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 4
    assert len(seen) == len(set(seen)) == 7
    assert sorted(seen) == refs(catalog, all_versions=True)


def test_pagination_with_a_filter(catalog: Registry) -> None:
    first = catalog.query(kinds=["service"], all_versions=True, limit=2)
    assert len(first.items) == 2
    assert first.next_cursor is not None
    second = catalog.query(kinds=["service"], all_versions=True, limit=2, after=first.next_cursor)
    assert [str(e.ref) for e in second.items] == ["service:shop/orders@2.0.0"]
    assert second.next_cursor is None


def test_page_size_is_capped(open_registry: Callable[..., Registry], make_doc: MakeDoc) -> None:
    reg = open_registry(max_page_size=3)
    reg.apply_many([make_doc(f"service:edge/s{i}@1.0.0") for i in range(5)])
    page = reg.query(limit=100)
    assert len(page.items) == 3
    assert page.next_cursor is not None
