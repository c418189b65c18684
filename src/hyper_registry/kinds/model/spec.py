"""The model kind's spec: framework, lineage, metrics and aliases."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from hyper_registry.core.envelope import Strict
from hyper_registry.core.ref import Ref
from hyper_registry.core.versioning import semver_problem
from hyper_registry.kinds.common import (
    Digest,
    Number,
    Ratio,
    Text,
    choice,
    invalid,
    named,
    ref_to,
)

Framework = Literal[
    "tensorflow", "pytorch", "onnx", "sklearn", "xgboost", "lightgbm", "jax", "huggingface", "other"
]

RATIO_METRICS = ("accuracy", "precision", "recall", "f1", "auc")
"""Known metrics that are ratios in 0..1."""
NON_NEGATIVE_METRICS = ("loss", "latency", "latencyMs", "size", "sizeBytes")
"""Known metrics that are 0 or more."""

MAX_METRICS = 256
_METRIC_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")

ModelRef = Annotated[Ref, ref_to("model")]
DatasetRef = Annotated[Ref, ref_to("dataset")]
NonNegative = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]


def _alias(value: str) -> str:
    if semver_problem(value) is None:
        raise invalid(
            "bad-alias",
            f"alias {value!r} looks like a version; an alias must not be a semantic version",
        )
    return value


Alias = Annotated[str, named("alias", 128), AfterValidator(_alias)]


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise invalid("bad-url", f"url {value!r} must be an http or https URL")
    return value


class Run(Strict):
    """The training run that produced the model (an MLflow run, a pipeline job...)."""

    id: Annotated[str, Field(min_length=1, max_length=256)]
    url: Annotated[str, Field(max_length=2048), AfterValidator(_http_url)] | None = None


class Metrics(Strict):
    """Known metrics are range-checked; any other metric name may carry a finite number."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, Number] = Field(init=False)

    accuracy: Ratio | None = None
    precision: Ratio | None = None
    recall: Ratio | None = None
    f1: Ratio | None = None
    auc: Ratio | None = None
    loss: NonNegative | None = None
    latency: NonNegative | None = None
    latencyMs: NonNegative | None = None
    size: NonNegative | None = None
    sizeBytes: NonNegative | None = None

    @model_validator(mode="before")
    @classmethod
    def _names(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if len(data) > MAX_METRICS:
                raise invalid(
                    "too-many", f"metrics has {len(data)} entries; the limit is {MAX_METRICS}"
                )
            for key in data:
                if not isinstance(key, str) or not _METRIC_NAME.fullmatch(key):
                    raise invalid(
                        "bad-metric-name",
                        f"metric name {key!r} must start with a letter and use letters, digits, "
                        "'_', '-' and '.' (at most 64 characters)",
                    )
        return data

    def as_dict(self) -> dict[str, float]:
        """Every metric given, known and custom, by name."""
        known = {k: v for k, v in self if v is not None and k in type(self).model_fields}
        return {**known, **(self.__pydantic_extra__ or {})}


class TensorSpec(Strict):
    """One input or output of a model's signature (a column or a tensor)."""

    name: Annotated[str, Field(max_length=256)] | None = None
    type: Annotated[str, Field(max_length=256)] | None = None
    shape: list[int | Annotated[str, Field(max_length=128)] | None] | None = Field(
        default=None, max_length=64
    )


class Signature(Strict):
    inputs: list[TensorSpec] = Field(default_factory=list, max_length=10000)
    outputs: list[TensorSpec] = Field(default_factory=list, max_length=10000)


class ModelFile(Strict):
    """A file uploaded for this version, stored by content (``hyper-registry model upload``)."""

    name: Annotated[str, Field(min_length=1, max_length=255)]
    sha256: Digest
    size: Annotated[int, Field(strict=True, ge=0)]
    format: Annotated[str, Field(min_length=1, max_length=32)]


class ModelSpec(Strict):
    framework: Annotated[Framework, choice("framework", Framework)]
    task: Annotated[str, Field(max_length=128)] | None = Field(
        default=None, description="free text, like binary-classification"
    )
    parent: ModelRef | None = Field(default=None, description="the model this one derives from")
    trainingDatasets: list[DatasetRef] = Field(default_factory=list, max_length=1000)
    evaluationDatasets: list[DatasetRef] = Field(default_factory=list, max_length=1000)
    run: Run | None = None
    metrics: Metrics = Field(default_factory=Metrics)
    primaryMetric: Text | None = None
    aliases: list[Alias] = Field(default_factory=list, max_length=64)
    signature: Signature | None = Field(
        default=None, description="inputs and outputs (from an MLflow MLmodel or an ONNX graph)"
    )
    flavors: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=64, description="MLflow flavors"
    )
    opsets: dict[Annotated[str, Field(max_length=128)], Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict, max_length=64, description="ONNX operator sets by domain"
    )
    license: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    files: list[ModelFile] = Field(default_factory=list, max_length=100)
