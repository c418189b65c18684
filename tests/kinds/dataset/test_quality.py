"""Quality measures, thresholds and the ``dataset.quality`` alert naming every consumer."""

from __future__ import annotations

from typing import Any

import pytest

from hyper_registry import Registry
from hyper_registry.core.errors import Invalid
from hyper_registry.kinds.dataset.service import set_quality


def ds(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "kind": "dataset",
        "metadata": {"namespace": "risk", "name": name, "version": "1"},
        "spec": spec,
    }


@pytest.fixture
def world(registry: Registry) -> Registry:
    """raw -> clean -> features; a model trained on features; a service using the model."""
    registry.apply(ds("raw", qualityThresholds={"completeness": 0.9}))
    registry.apply(ds("clean", upstream=["dataset:risk/raw"]))
    registry.apply(ds("features", upstream=["dataset:risk/clean"]))
    registry.apply(
        {
            "kind": "model",
            "metadata": {"namespace": "risk", "name": "scorer", "version": "1.0.0"},
            "spec": {"framework": "xgboost", "trainingDatasets": ["dataset:risk/features"]},
        }
    )
    registry.apply(
        {
            "kind": "service",
            "metadata": {"namespace": "risk", "name": "api", "version": "1.0.0"},
            "spec": {},
            "relations": [{"type": "uses", "target": "model:risk/scorer"}],
        }
    )
    return registry


def alerts(registry: Registry) -> list[Any]:
    return [c for c in registry.changes() if c.op == "dataset.quality"]


def test_breach_names_dataset_and_every_downstream_consumer(world: Registry) -> None:
    out = set_quality(world, "dataset:risk/raw@1", {"completeness": 0.5}, actor="alice")
    assert out["breaches"] == [{"dimension": "completeness", "value": 0.5, "threshold": 0.9}]
    [alert] = alerts(world)
    assert alert.ref == "dataset:risk/raw@1"
    assert alert.namespace == "risk"
    assert alert.detail is not None
    assert alert.detail["dataset"] == "dataset:risk/raw@1"
    assert alert.detail["consumers"] == [
        {"ref": "dataset:risk/clean@1", "kind": "dataset", "depth": 1},
        {"ref": "dataset:risk/features@1", "kind": "dataset", "depth": 2},
        {"ref": "model:risk/scorer@1.0.0", "kind": "model", "depth": 3},
        {"ref": "service:risk/api@1.0.0", "kind": "service", "depth": 4},
    ]
    assert out["alert"]["seq"] == alert.seq


def test_same_breach_not_raised_twice_and_recovery_clears(world: Registry) -> None:
    set_quality(world, "dataset:risk/raw@1", {"completeness": 0.5}, actor="a")
    set_quality(world, "dataset:risk/raw@1", {"completeness": 0.5, "accuracy": 0.99}, actor="a")
    assert len(alerts(world)) == 1
    set_quality(world, "dataset:risk/raw@1", {"completeness": 0.95}, actor="a")
    assert len(alerts(world)) == 1
    set_quality(world, "dataset:risk/raw@1", {"completeness": 0.4}, actor="a")
    assert len(alerts(world)) == 2


def test_at_threshold_is_not_a_breach(world: Registry) -> None:
    out = set_quality(world, "dataset:risk/raw@1", {"completeness": 0.9}, actor="a")
    assert out["breaches"] == [] and out["alert"] is None
    assert alerts(world) == []


@pytest.mark.parametrize("value", [1.5, -0.1, "high", True])
def test_out_of_range_refused(world: Registry, value: Any) -> None:
    with pytest.raises(Invalid) as err:
        set_quality(world, "dataset:risk/raw@1", {"completeness": value}, actor="a")
    assert err.value.problems[0].path == "quality.completeness"
    with pytest.raises(Invalid) as err:
        world.apply(ds("raw", quality={"freshness": value}))
    assert err.value.problems[0].path == "spec.quality.freshness"


def test_unknown_dimension_refused(world: Registry) -> None:
    with pytest.raises(Invalid) as err:
        set_quality(world, "dataset:risk/raw@1", {"vibes": 0.5}, actor="a")
    assert err.value.problems[0].path == "quality.vibes"


def test_alert_from_a_plain_apply(world: Registry) -> None:
    world.apply(
        ds(
            "clean",
            upstream=["dataset:risk/raw"],
            quality={"accuracy": 0.1},
            qualityThresholds={"accuracy": 0.5},
        )
    )
    [alert] = alerts(world)
    assert alert.ref == "dataset:risk/clean@1"
    assert [c["ref"] for c in alert.detail["consumers"]] == [
        "dataset:risk/features@1",
        "model:risk/scorer@1.0.0",
        "service:risk/api@1.0.0",
    ]
