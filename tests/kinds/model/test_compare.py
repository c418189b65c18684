"""``compare_models``: directions, winners, the primary metric, the Pareto set, deltas."""

from __future__ import annotations

from typing import Any

import pytest

from hyper_registry import Registry
from hyper_registry.core.errors import Invalid, NotFound
from hyper_registry.kinds.model.compare import compare_models

A, B, C = "model:risk/fraud@1.0.0", "model:risk/fraud@1.1.0", "model:risk/fraud@2.0.0"


def model(version: str, metrics: dict[str, float], **spec: Any) -> dict[str, Any]:
    return {
        "kind": "model",
        "metadata": {"namespace": "risk", "name": "fraud", "version": version},
        "spec": {"framework": "xgboost", "metrics": metrics, **spec},
    }


@pytest.fixture
def reg(sqlite_registry: Registry) -> Registry:
    sqlite_registry.apply(model("1.0.0", {"accuracy": 0.90, "loss": 0.30, "latencyMs": 5}))
    sqlite_registry.apply(model("1.1.0", {"accuracy": 0.92, "loss": 0.35, "latencyMs": 4}))
    sqlite_registry.apply(model("2.0.0", {"accuracy": 0.91, "loss": 0.40, "latencyMs": 6}))
    return sqlite_registry


def test_directions_winners_and_pareto(reg: Registry) -> None:
    out = compare_models(reg, [A, B, C])
    assert set(out) == {"metrics", "winners", "winner", "pareto"}
    assert {m: v["direction"] for m, v in out["metrics"].items()} == {
        "accuracy": "higher",
        "latencyMs": "lower",
        "loss": "lower",
    }
    assert out["winners"] == {"accuracy": B, "latencyMs": B, "loss": A}
    assert out["winner"] is None  # no primary metric declared
    # 2.0.0 is beaten by 1.1.0 on accuracy and latency and by 1.0.0 on loss: dominated by 1.1.0?
    # 1.1.0 beats 2.0.0 on accuracy (0.92 > 0.91), loss (0.35 < 0.40), latency (4 < 6): yes.
    assert out["pareto"] == [A, B]
    assert out["metrics"]["loss"]["deltas"] == {A: 0.0, B: 0.05, C: 0.1}
    assert out["metrics"]["accuracy"]["baseline"] == A


def test_primary_metric_declared_or_given(reg: Registry) -> None:
    reg.apply(
        model("1.0.0", {"accuracy": 0.90, "loss": 0.30, "latencyMs": 5}, primaryMetric="loss")
    )
    assert compare_models(reg, [A, B, C])["winner"] == A
    assert compare_models(reg, [A, B, C], primary="accuracy")["winner"] == B


def test_configured_direction_and_subset_and_baseline(reg: Registry) -> None:
    out = compare_models(reg, [A, B], ["latencyMs"], directions={"latencyMs": "higher"}, baseline=B)
    assert list(out["metrics"]) == ["latencyMs"]
    assert out["winners"] == {"latencyMs": A}
    assert out["metrics"]["latencyMs"]["deltas"] == {A: 1.0, B: 0.0}


def test_aliases_resolve_and_missing_metrics(reg: Registry) -> None:
    reg.set_alias(B, "champion")
    reg.apply(model("3.0.0", {"f1": 0.5}))
    out = compare_models(reg, ["model:risk/fraud@champion", "model:risk/fraud@3.0.0"])
    assert out["metrics"]["accuracy"]["values"] == {B: 0.92, "model:risk/fraud@3.0.0": None}
    assert out["winners"]["f1"] == "model:risk/fraud@3.0.0"
    assert out["pareto"] == [B, "model:risk/fraud@3.0.0"]  # nothing shared to compare


def test_bad_input(reg: Registry) -> None:
    with pytest.raises(Invalid):
        compare_models(reg, [])
    with pytest.raises(Invalid) as err:
        compare_models(reg, [A, "dataset:risk/x@1"])
    assert err.value.problems[0].path == "refs[1]"
    with pytest.raises(Invalid):
        compare_models(reg, [A, B], directions={"loss": "down"})
    with pytest.raises(Invalid):
        compare_models(reg, [A, B], primary="nope")
    with pytest.raises(NotFound):
        compare_models(reg, [A, "model:risk/fraud@9.9.9"])
