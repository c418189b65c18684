"""Dependencies and dependents: chains, cycles, diamonds, depth and kind filters (both backends)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from hyper_registry import GraphHit, Invalid, NotFound, Registry

MakeDoc = Callable[..., dict[str, Any]]


def svc(name: str, *targets: str, rel: str = "calls", ns: str = "edge") -> dict[str, Any]:
    """A service ``ns/name@1.0.0`` with a ``rel`` relation to the latest of each target."""
    return {
        "kind": "service",
        "metadata": {"namespace": ns, "name": name, "version": "1.0.0"},
        "spec": {},
        "relations": [{"type": rel, "target": f"service:{ns}/{t}"} for t in targets],
    }


def summary(hits: list[GraphHit]) -> list[tuple[str, int, list[tuple[str, str]]]]:
    return [(str(h.ref), h.depth, [(p.relation, p.ref) for p in h.path]) for h in hits]


def short(hits: list[GraphHit]) -> dict[str, int]:
    return {h.ref.name: h.depth for h in hits}


def test_chain(registry: Registry) -> None:
    registry.apply_many([svc("a", "b"), svc("b", "c"), svc("c")])
    assert summary(registry.dependencies("service:edge/a")) == [
        ("service:edge/b@1.0.0", 1, [("calls", "service:edge/b@1.0.0")]),
        (
            "service:edge/c@1.0.0",
            2,
            [("calls", "service:edge/b@1.0.0"), ("calls", "service:edge/c@1.0.0")],
        ),
    ]
    assert summary(registry.dependents("service:edge/c@1.0.0")) == [
        ("service:edge/b@1.0.0", 1, [("calledBy", "service:edge/b@1.0.0")]),
        (
            "service:edge/a@1.0.0",
            2,
            [("calledBy", "service:edge/b@1.0.0"), ("calledBy", "service:edge/a@1.0.0")],
        ),
    ]
    assert registry.dependencies("service:edge/c") == []


def test_cycle_terminates_and_never_reports_the_root(registry: Registry) -> None:
    registry.apply_many([svc("a", "b"), svc("b", "c"), svc("c", "a")])
    assert short(registry.dependencies("service:edge/a")) == {"b": 1, "c": 2}
    assert short(registry.dependents("service:edge/a")) == {"c": 1, "b": 2}
    assert short(registry.impact("service:edge/a")) == {"c": 1, "b": 2}
    assert short(registry.dependencies("service:edge/a", depth=20)) == {"b": 1, "c": 2}


def test_self_loop(registry: Registry) -> None:
    registry.apply_many([svc("a", "a", "b"), svc("b")])
    assert short(registry.dependencies("service:edge/a")) == {"b": 1}


def test_diamond_reports_each_node_once_at_its_shortest_depth(registry: Registry) -> None:
    registry.apply_many(
        [svc("a", "b", "c"), svc("b", "d"), svc("c", "d", "e"), svc("d", "e"), svc("e")]
    )
    hits = registry.dependencies("service:edge/a")
    assert short(hits) == {"b": 1, "c": 1, "d": 2, "e": 2}
    assert len(hits) == 4
    d = next(h for h in hits if h.ref.name == "d")
    assert [p.ref for p in d.path] in (
        ["service:edge/b@1.0.0", "service:edge/d@1.0.0"],
        ["service:edge/c@1.0.0", "service:edge/d@1.0.0"],
    )
    e = next(h for h in hits if h.ref.name == "e")
    assert [p.ref for p in e.path] == ["service:edge/c@1.0.0", "service:edge/e@1.0.0"]


def test_paths_are_chains_of_real_relations(registry: Registry) -> None:
    registry.apply_many(
        [svc("a", "b", "c"), svc("b", "d"), svc("c", "d"), svc("d", "e", "a"), svc("e")]
    )
    edges = {("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", "e"), ("d", "a")}
    for hit in registry.dependencies("service:edge/a"):
        names = ["a"] + [p.ref.split("/")[1].split("@")[0] for p in hit.path]
        assert len(hit.path) == hit.depth
        assert names[-1] == hit.ref.name
        assert all(step in edges for step in itertools.pairwise(names))


def test_depth_limits_the_walk(registry: Registry) -> None:
    registry.apply_many([svc("a", "b"), svc("b", "c"), svc("c", "d"), svc("d")])
    assert short(registry.dependencies("service:edge/a", depth=1)) == {"b": 1}
    assert short(registry.dependencies("service:edge/a", depth=2)) == {"b": 1, "c": 2}
    assert len(registry.dependencies("service:edge/a")) == 3


@pytest.mark.parametrize("depth", [0, -1, 21, 1000])
def test_depth_out_of_bounds_is_invalid(registry: Registry, depth: int) -> None:
    registry.register(svc("a"))
    with pytest.raises(Invalid) as info:
        registry.dependencies("service:edge/a", depth=depth)
    assert info.value.problems[0].loc == ("depth",)


def test_default_depth_comes_from_settings(
    open_registry: Callable[..., Registry], make_doc: MakeDoc
) -> None:
    reg = open_registry(default_graph_depth=2)
    reg.apply_many([svc("a", "b"), svc("b", "c"), svc("c", "d"), svc("d")])
    assert short(reg.dependencies("service:edge/a")) == {"b": 1, "c": 2}


def test_kinds_filter_reports_only_those_kinds_but_walks_through_others(
    registry: Registry, make_doc: MakeDoc
) -> None:
    registry.apply_many(
        [
            make_doc(
                "service:edge/gw@1.0.0",
                relations=[("calls", "service:shop/orders"), ("uses", "plugin:edge/scrub@1.0.0")],
            ),
            make_doc("service:shop/orders@1.0.0", relations=[("uses", "model:shop/det")]),
            make_doc("model:shop/det@1.0.0", relations=[("trainedOn", "dataset:shop/s")]),
            make_doc("dataset:shop/s@2026-01"),
        ]
    )
    hits = registry.dependencies("service:edge/gw", kinds=["model", "dataset"])
    assert summary(hits) == [
        (
            "model:shop/det@1.0.0",
            2,
            [("calls", "service:shop/orders@1.0.0"), ("uses", "model:shop/det@1.0.0")],
        ),
        (
            "dataset:shop/s@2026-01",
            3,
            [
                ("calls", "service:shop/orders@1.0.0"),
                ("uses", "model:shop/det@1.0.0"),
                ("trainedOn", "dataset:shop/s@2026-01"),
            ],
        ),
    ]
    with pytest.raises(Invalid):
        registry.dependencies("service:edge/gw", kinds=["widget"])


def test_unknown_root_is_not_found(registry: Registry) -> None:
    with pytest.raises(NotFound):
        registry.dependencies("service:edge/nothing")
    with pytest.raises(NotFound):
        registry.impact("service:edge/nothing@1.0.0")


def test_inverse_names_are_stored_once_and_read_both_ways(
    registry: Registry, make_doc: MakeDoc
) -> None:
    # The dataset declares the inverse name; the model sees the canonical one.
    registry.apply_many(
        [
            make_doc("model:shop/det@1.0.0"),
            make_doc("dataset:shop/s@2026-01", relations=[("trainingDataOf", "model:shop/det")]),
        ]
    )
    assert [(v.type, str(v.other), v.direction) for v in registry.relations("model:shop/det")] == [
        ("trainedOn", "dataset:shop/s@2026-01", "outgoing")
    ]
    assert [(v.type, str(v.other)) for v in registry.relations("dataset:shop/s")] == [
        ("trainingDataOf", "model:shop/det")
    ]
    assert short(registry.dependencies("model:shop/det")) == {"s": 1}
    assert summary(registry.dependents("dataset:shop/s")) == [
        ("model:shop/det@1.0.0", 1, [("trainingDataOf", "model:shop/det@1.0.0")])
    ]


def test_namespaces_restriction_applies_to_every_walk(registry: Registry) -> None:
    # a (edge) -> b (shop) -> c (edge): with only edge visible, b and all beyond it are hidden.
    registry.apply_many(
        [
            svc("a", ns="edge")
            | {"relations": [{"type": "dependsOn", "target": "service:shop/b"}]},
            svc("b", ns="shop")
            | {"relations": [{"type": "dependsOn", "target": "service:edge/c"}]},
            svc("c", ns="edge"),
            svc("d", "a", ns="edge", rel="dependsOn"),
        ]
    )
    assert short(registry.dependencies("service:edge/a")) == {"b": 1, "c": 2}
    assert registry.dependencies("service:edge/a", namespaces=["edge"]) == []
    assert short(registry.dependencies("service:edge/a", namespaces=["edge", "shop"])) == {
        "b": 1,
        "c": 2,
    }
    assert short(registry.dependents("service:edge/c")) == {"b": 1, "a": 2, "d": 3}
    assert registry.dependents("service:edge/c", namespaces=["edge"]) == []
    assert short(registry.dependents("service:edge/a", namespaces=["edge"])) == {"d": 1}
    for hit in registry.dependents("service:edge/c", namespaces=["shop"]):
        assert all(hop.ref.startswith("service:shop/") for hop in hit.path)
