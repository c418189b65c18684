"""The dataset kind's spec: schema, compatibility mode, quality and lineage."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, ConfigDict, Field, StrictBool

from hyper_registry.core.envelope import Strict
from hyper_registry.core.ref import Ref
from hyper_registry.kinds.common import Ratio, Text, choice, invalid, named, ref_to

Compatibility = Literal[
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
    "NONE",
]
COMPATIBILITY_MODES: tuple[str, ...] = get_args(Compatibility)

QUALITY_DIMENSIONS = (
    "completeness",
    "accuracy",
    "consistency",
    "validity",
    "uniqueness",
    "freshness",
)

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")

DatasetRef = Annotated[Ref, ref_to("dataset")]


def _location(value: str) -> str:
    if not _SCHEME.fullmatch(value):
        raise invalid(
            "bad-location",
            f"location {value!r} must be a URI with a scheme and no spaces, "
            "like s3://bucket/path/ or file:///data/x",
        )
    return value


class SchemaField(Strict):
    name: Annotated[str, Field(min_length=1, max_length=256)]
    type: Annotated[str, Field(min_length=1, max_length=1024)] = Field(
        description="the field's type as the format names it: string, int, timestamp, ..."
    )
    nullable: StrictBool = False
    default: Any = Field(default=None, description="a default value; null is a valid default")
    description: Annotated[str, Field(max_length=4096)] | None = None

    @property
    def has_default(self) -> bool:
        """Whether a default was written (``default: null`` counts; a missing default does not)."""
        return "default" in self.model_fields_set


class Schema(Strict):
    fields: list[SchemaField] = Field(default_factory=list, max_length=10000)

    def field(self, name: str) -> SchemaField | None:
        return next((f for f in self.fields if f.name == name), None)


class Quality(Strict):
    """Quality dimensions, each a ratio in 0..1."""

    completeness: Ratio | None = None
    accuracy: Ratio | None = None
    consistency: Ratio | None = None
    validity: Ratio | None = None
    uniqueness: Ratio | None = None
    freshness: Ratio | None = None

    def as_dict(self) -> dict[str, float]:
        return {k: v for k in QUALITY_DIMENSIONS if (v := getattr(self, k)) is not None}


class Transformation(Strict):
    name: Annotated[str, named("transformation name")]
    job: Text = Field(description="the job that runs it, like airflow://dag/task")
    inputs: list[DatasetRef] = Field(min_length=1, max_length=1000)
    outputs: list[DatasetRef] = Field(default_factory=list, max_length=1000)


class DatasetSpec(Strict):
    # ``schema`` is written as ``schema`` only (the Python attribute is ``schema_``).
    model_config = ConfigDict(populate_by_name=False)

    format: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="parquet, csv, avro, json, delta, ..."
    )
    location: Annotated[str, Field(max_length=4096), AfterValidator(_location)] | None = None
    schema_: Schema | None = Field(default=None, alias="schema")
    compatibility: Annotated[Compatibility, choice("compatibility", Compatibility)] = "BACKWARD"
    quality: Quality | None = None
    qualityThresholds: Quality | None = None
    upstream: list[DatasetRef] = Field(default_factory=list, max_length=1000)
    transformations: list[Transformation] = Field(default_factory=list, max_length=1000)

    def quality_breaches(self) -> list[tuple[str, float, float]]:
        """``(dimension, value, threshold)`` for each measured dimension below its threshold."""
        if self.quality is None or self.qualityThresholds is None:
            return []
        have = self.quality.as_dict()
        return [
            (k, have[k], t)
            for k, t in self.qualityThresholds.as_dict().items()
            if k in have and have[k] < t
        ]
