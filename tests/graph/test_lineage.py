"""``build_lineage_graph``: directions, depth, cycles, kinds crossed, visibility, jobs on edges."""

from __future__ import annotations

from typing import Any

import pytest

from hyper_registry import Registry
from hyper_registry.core.errors import Invalid, NotFound
from hyper_registry.graph.lineage import build_lineage_graph


def ds(ref: str, upstream: list[str] | None = None, **spec: Any) -> dict[str, Any]:
    ns, _, name = ref.partition("/")
    return {
        "kind": "dataset",
        "metadata": {"namespace": ns, "name": name, "version": "1"},
        "spec": {"upstream": [f"dataset:{u}" for u in upstream or []], **spec},
    }


@pytest.fixture
def world(registry: Registry) -> Registry:
    """raw -> clean -> features -> model 1.0.0 -> model 1.1.0 (fine-tune) -> service."""
    registry.apply_many(
        [
            ds("risk/raw"),
            ds("risk/clean", ["risk/raw"]),
            ds("risk/features", ["risk/clean"]),
            {
                "kind": "model",
                "metadata": {"namespace": "risk", "name": "scorer", "version": "1.0.0"},
                "spec": {
                    "framework": "xgboost",
                    "trainingDatasets": ["dataset:risk/features"],
                    "run": {"id": "run-42", "url": "https://mlflow.example.com/runs/42"},
                },
            },
            {
                "kind": "model",
                "metadata": {"namespace": "risk", "name": "scorer", "version": "1.1.0"},
                "spec": {"framework": "xgboost", "parent": "model:risk/scorer@1.0.0"},
            },
            {
                "kind": "service",
                "metadata": {"namespace": "apps", "name": "api", "version": "1.0.0"},
                "spec": {},
                "relations": [{"type": "uses", "target": "model:risk/scorer@1.1.0"}],
            },
        ]
    )
    return registry


def refs(graph: Any) -> list[tuple[str, int, str]]:
    return [(n.ref, n.depth, n.side) for n in graph.nodes]


def test_downstream_crosses_from_data_to_models_to_services(world: Registry) -> None:
    graph = build_lineage_graph(world, "dataset:risk/raw", "downstream", 10)
    assert refs(graph) == [
        ("dataset:risk/raw@1", 0, "root"),
        ("dataset:risk/clean@1", 1, "downstream"),
        ("dataset:risk/features@1", 2, "downstream"),
        ("model:risk/scorer@1.0.0", 3, "downstream"),
        ("model:risk/scorer@1.1.0", 4, "downstream"),
        ("service:apps/api@1.0.0", 5, "downstream"),
    ]
    assert [(e.source, e.target, e.relation) for e in graph.edges] == [
        ("dataset:risk/clean@1", "dataset:risk/features@1", "derivedFrom"),
        ("dataset:risk/features@1", "model:risk/scorer@1.0.0", "trainedOn"),
        ("dataset:risk/raw@1", "dataset:risk/clean@1", "derivedFrom"),
        ("model:risk/scorer@1.0.0", "model:risk/scorer@1.1.0", "derivedFrom"),
        ("model:risk/scorer@1.1.0", "service:apps/api@1.0.0", "uses"),
    ]


def test_models_carry_their_producing_run(world: Registry) -> None:
    graph = build_lineage_graph(world, "dataset:risk/features", "downstream", 1)
    [model] = [n.to_dict() for n in graph.nodes if n.kind == "model"]
    assert model["run"] == {"id": "run-42", "url": "https://mlflow.example.com/runs/42"}
    assert "run" not in graph.nodes[0].to_dict()


def test_upstream_from_an_alias_walks_back_to_raw_data(world: Registry) -> None:
    world.set_alias("model:risk/scorer@1.1.0", "champion")
    graph = build_lineage_graph(world, "model:risk/scorer@champion", "upstream", 10)
    assert graph.root == "model:risk/scorer@1.1.0"
    assert [n.ref for n in graph.nodes][-1] == "dataset:risk/raw@1"
    assert {n.side for n in graph.nodes[1:]} == {"upstream"}


def test_depth_limits_and_both(world: Registry) -> None:
    graph = build_lineage_graph(world, "dataset:risk/features", "both", 1)
    assert refs(graph) == [
        ("dataset:risk/features@1", 0, "root"),
        ("model:risk/scorer@1.0.0", 1, "downstream"),
        ("dataset:risk/clean@1", 1, "upstream"),
    ]


def test_cycles_terminate(registry: Registry) -> None:
    registry.apply_many(
        [ds("c/a", ["c/c"]), ds("c/b", ["c/a"]), ds("c/c", ["c/b"]), ds("c/d", ["c/c", "c/d2"])]
    )
    registry.apply(ds("c/d2", ["c/d"]))  # a two-cycle hanging off the three-cycle
    graph = build_lineage_graph(registry, "dataset:c/a", "both", 20)
    assert sorted((n.ref, n.depth, n.side) for n in graph.nodes) == [
        ("dataset:c/a@1", 0, "root"),
        ("dataset:c/b@1", 1, "both"),
        ("dataset:c/c@1", 1, "both"),
        ("dataset:c/d2@1", 4, "downstream"),
        ("dataset:c/d@1", 3, "downstream"),
    ]
    assert len(graph.edges) == 6  # the two-cycle contributes both of its edges


def test_hidden_namespaces_are_neither_shown_nor_passed(world: Registry) -> None:
    graph = build_lineage_graph(world, "dataset:risk/raw", "downstream", 10, namespaces=["risk"])
    assert "service:apps/api@1.0.0" not in [n.ref for n in graph.nodes]
    with pytest.raises(NotFound):
        build_lineage_graph(world, "service:apps/api", "upstream", 10, namespaces=["risk"])
    graph = build_lineage_graph(world, "service:apps/api", "upstream", 10, namespaces=["apps"])
    assert [n.ref for n in graph.nodes] == ["service:apps/api@1.0.0"]


def test_bad_direction_and_depth(world: Registry) -> None:
    with pytest.raises(Invalid) as err:
        build_lineage_graph(world, "dataset:risk/raw", "sideways", 2)
    assert err.value.problems[0].path == "direction"
    with pytest.raises(Invalid) as err:
        build_lineage_graph(world, "dataset:risk/raw", "both", 0)
    assert err.value.problems[0].path == "depth"
    with pytest.raises(NotFound):
        build_lineage_graph(world, "dataset:risk/nope", "both", 2)


def test_declared_transformations_appear_on_edges(registry: Registry) -> None:
    registry.apply(ds("t/raw"))
    registry.apply(
        ds(
            "t/clean",
            transformations=[
                {"name": "dedupe", "job": "airflow://etl/dedupe", "inputs": ["dataset:t/raw"]}
            ],
        )
    )
    graph = build_lineage_graph(registry, "dataset:t/clean", "upstream", 2)
    [edge] = graph.edges
    [step] = edge.transformations
    assert step["job"] == {"namespace": "spec", "name": "airflow://etl/dedupe"}
    assert step["source"] == "spec"
