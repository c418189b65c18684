"""The model kind: framework, lineage, metrics, primary metric and aliases."""

from __future__ import annotations

from typing import Any

import pytest

from hyper_registry.core.kind import ImpliedRelation
from hyper_registry.core.ref import Ref
from hyper_registry.kinds.model import KIND, ModelSpec, harmonic_mean

from .kindcheck import check, only

FRAMEWORKS = [
    "tensorflow",
    "pytorch",
    "onnx",
    "sklearn",
    "xgboost",
    "lightgbm",
    "jax",
    "huggingface",
    "other",
]


def spec(**fields: Any) -> dict[str, Any]:
    return {"framework": "xgboost", **fields}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_frameworks_accepted(framework: str) -> None:
    assert check("model", {"framework": framework}) == []


def test_unknown_framework_refused() -> None:
    assert only(check("model", {"framework": "caffe"})) == (
        "spec.framework",
        "framework 'caffe' is not one of: " + ", ".join(FRAMEWORKS),
    )
    assert only(check("model", {})) == ("spec.framework", "Field required")


def test_lineage_implies_relations() -> None:
    model = ModelSpec.model_validate(
        spec(
            parent="model:risk/fraud@1.0.0",
            trainingDatasets=["dataset:risk/tx@2024-06", "dataset:risk/labels"],
            evaluationDatasets=["dataset:risk/holdout@2024-06"],
            run={"id": "a1b2c3", "url": "https://mlflow.example.com/#/runs/a1b2c3"},
        )
    )
    assert KIND.relations_of(model) == [
        ImpliedRelation("derivedFrom", Ref("model", "risk", "fraud", "1.0.0"), ("spec", "parent")),
        ImpliedRelation(
            "trainedOn", Ref("dataset", "risk", "tx", "2024-06"), ("spec", "trainingDatasets", 0)
        ),
        ImpliedRelation(
            "trainedOn", Ref("dataset", "risk", "labels"), ("spec", "trainingDatasets", 1)
        ),
    ]  # evaluation datasets imply nothing


def test_lineage_refs_have_the_right_kind() -> None:
    assert only(check("model", spec(parent="dataset:risk/tx"))) == (
        "spec.parent",
        "reference 'dataset:risk/tx' must point at a model, not a dataset",
    )
    assert only(check("model", spec(trainingDatasets=["model:risk/fraud"]))) == (
        "spec.trainingDatasets[0]",
        "reference 'model:risk/fraud' must point at a dataset, not a model",
    )
    assert only(check("model", spec(evaluationDatasets=["service:a/b"])))[0] == (
        "spec.evaluationDatasets[0]"
    )


def test_parent_is_not_the_model_itself() -> None:
    problems = check("model", spec(parent="model:team/thing@1.0.0"), version="1.0.0", name="thing")
    assert only(problems) == (
        "spec.parent",
        "parent 'model:team/thing@1.0.0' is this model itself",
    )
    # an earlier version of the same model is a fine parent
    assert (
        check("model", spec(parent="model:team/thing@0.9.0"), version="1.0.0", name="thing") == []
    )


def test_repeated_datasets_refused() -> None:
    ds = "dataset:risk/tx@2024-06"
    assert only(check("model", spec(trainingDatasets=[ds, ds]))) == (
        "spec.trainingDatasets[1]",
        f"dataset {ds!r} is listed twice (first at spec.trainingDatasets[0])",
    )
    assert (
        only(check("model", spec(evaluationDatasets=[ds, ds])))[0] == "spec.evaluationDatasets[1]"
    )


def test_run() -> None:
    assert check("model", spec(run={"id": "run-1"})) == []
    assert only(check("model", spec(run={"id": "run-1", "url": "mlflow:/runs/1"}))) == (
        "spec.run.url",
        "url 'mlflow:/runs/1' must be an http or https URL",
    )
    assert only(check("model", spec(run={"url": "https://x.example.com"}))) == (
        "spec.run.id",
        "Field required",
    )


def test_metrics_accepted() -> None:
    metrics = {
        "accuracy": 0.97,
        "precision": 1,
        "recall": 0,
        "auc": 0.5,
        "loss": 0.0,
        "latency": 12,
        "latencyMs": 3.1,
        "size": 1e9,
        "sizeBytes": 123456,
        "rmse": -2.5,
        "top5.accuracy": 0.99,
    }
    model = ModelSpec.model_validate(spec(metrics=metrics))
    assert model.metrics.as_dict() == {k: float(v) for k, v in metrics.items()}
    assert model.metrics.precision == 1.0


@pytest.mark.parametrize("name", ["accuracy", "precision", "recall", "f1", "auc"])
@pytest.mark.parametrize(
    ("value", "message"), [(1.01, "less than or equal to 1"), (-0.1, "greater than or equal to 0")]
)
def test_ratio_metrics_in_0_1(name: str, value: float, message: str) -> None:
    assert only(check("model", spec(metrics={name: value}))) == (
        f"spec.metrics.{name}",
        f"Input should be {message}",
    )


@pytest.mark.parametrize("name", ["loss", "latency", "latencyMs", "size", "sizeBytes"])
def test_non_negative_metrics(name: str) -> None:
    assert only(check("model", spec(metrics={name: -1}))) == (
        f"spec.metrics.{name}",
        "Input should be greater than or equal to 0",
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0.9", "Input should be a valid number"),
        (True, "Input should be a valid number"),
        (float("nan"), "Input should be a finite number"),
    ],
)
def test_metric_values_are_finite_numbers(value: Any, message: str) -> None:
    assert only(check("model", spec(metrics={"accuracy": value}))) == (
        "spec.metrics.accuracy",
        message,
    )
    assert only(check("model", spec(metrics={"custom": value}))) == ("spec.metrics.custom", message)


def test_metric_names() -> None:
    assert only(check("model", spec(metrics={"my metric": 1.0}))) == (
        "spec.metrics",
        "metric name 'my metric' must start with a letter and use letters, digits, "
        "'_', '-' and '.' (at most 64 characters)",
    )


def test_f1_agrees_with_precision_and_recall() -> None:
    assert check("model", spec(metrics={"precision": 0.94, "recall": 0.88, "f1": 0.909})) == []
    assert only(check("model", spec(metrics={"precision": 0.94, "recall": 0.88, "f1": 0.5}))) == (
        "spec.metrics.f1",
        "f1 0.5 does not agree with precision 0.94 and recall 0.88 "
        "(harmonic mean 0.909, tolerance 0.01)",
    )


def test_f1_tolerance_edges() -> None:
    hm = harmonic_mean(0.94, 0.88)
    assert (
        check("model", spec(metrics={"precision": 0.94, "recall": 0.88, "f1": hm + 0.0099})) == []
    )
    assert (
        check("model", spec(metrics={"precision": 0.94, "recall": 0.88, "f1": hm - 0.0101})) != []
    )
    assert check("model", spec(metrics={"precision": 0, "recall": 0, "f1": 0})) == []
    # with one of the three missing there is nothing to compare
    assert check("model", spec(metrics={"precision": 0.9, "f1": 0.1})) == []


def test_primary_metric_must_be_a_metric() -> None:
    assert check("model", spec(metrics={"auc": 0.9}, primaryMetric="auc")) == []
    assert check("model", spec(metrics={"rmse": 1.5}, primaryMetric="rmse")) == []
    assert only(
        check("model", spec(metrics={"auc": 0.9, "f1": 0.8}, primaryMetric="accuracy"))
    ) == (
        "spec.primaryMetric",
        "primaryMetric 'accuracy' is not among the model's metrics (auc, f1)",
    )
    assert only(check("model", spec(primaryMetric="auc"))) == (
        "spec.primaryMetric",
        "primaryMetric 'auc' is not among the model's metrics (none)",
    )


def test_aliases() -> None:
    model = ModelSpec.model_validate(spec(aliases=["champion", "prod_eu"]))
    assert KIND.aliases_of(model) == ["champion", "prod_eu"]
    assert KIND.aliases_of(ModelSpec.model_validate(spec())) == []


@pytest.mark.parametrize(
    ("alias", "message"),
    [
        (
            "Champion",
            "alias 'Champion' must use lowercase letters, digits, '-', '_' and '.', "
            "and start and end with a letter or digit",
        ),
        ("", "alias must not be empty"),
        ("2.0.0", "alias '2.0.0' looks like a version; an alias must not be a semantic version"),
    ],
)
def test_bad_aliases_refused(alias: str, message: str) -> None:
    assert only(check("model", spec(aliases=[alias]))) == ("spec.aliases[0]", message)


def test_repeated_alias_refused() -> None:
    assert only(check("model", spec(aliases=["champion", "champion"]))) == (
        "spec.aliases[1]",
        "alias 'champion' is listed twice (first at spec.aliases[0])",
    )


def test_unknown_fields_refused() -> None:
    assert only(check("model", spec(flavor="python"))) == (
        "spec.flavor",
        "Extra inputs are not permitted",
    )
