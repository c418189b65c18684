"""The dataset kind's spec: schema, compatibility mode, quality and lineage."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, ConfigDict, Field, StrictBool, model_validator

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


SchemaFormat = Literal["native", "avro", "jsonschema"]


class Schema(Strict):
    """A dataset's schema: a native field list, an Avro schema or a JSON Schema.

    ``native`` lists ``fields``; ``avro`` and ``jsonschema`` put the schema document in
    ``definition`` (its fields are derived from it, see ``evolution.fields_of``).
    """

    format: Annotated[SchemaFormat, choice("schema format", SchemaFormat)] = "native"
    fields: list[SchemaField] = Field(default_factory=list, max_length=10000)
    definition: Any = Field(
        default=None, description="the Avro schema or JSON Schema (formats avro and jsonschema)"
    )

    @model_validator(mode="after")
    def _definition(self) -> Schema:
        if self.format == "native":
            if self.definition is not None:
                raise invalid(
                    "bad-schema",
                    "a native schema lists fields; definition is for avro and jsonschema",
                )
            return self
        if self.fields:
            raise invalid(
                "bad-schema",
                f"a {self.format} schema is given in definition; its fields are derived from it",
            )
        if self.definition is None:
            raise invalid("bad-schema", f"a {self.format} schema needs its definition")
        problem = definition_problem(self.format, self.definition)
        if problem:
            raise invalid("bad-schema", problem)
        return self

    def field(self, name: str) -> SchemaField | None:
        return next((f for f in self.fields if f.name == name), None)


def definition_problem(fmt: str, definition: Any) -> str | None:
    """Why an Avro schema or JSON Schema is not valid, or None."""
    from hyper_registry.core.errors import Invalid

    if fmt == "avro":
        from hyper_registry.kinds.dataset import avro

        try:
            avro.parse(definition)
        except Invalid as exc:
            return exc.message
        return None
    if not isinstance(definition, dict):
        return "a JSON Schema must be an object"
    import jsonschema  # type: ignore[import-untyped]
    from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]

    try:
        jsonschema.validators.validator_for(definition).check_schema(definition)
    except RecursionError:
        return "the JSON Schema nests too deeply"
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path)
        return f"not a valid JSON Schema{' at ' + where if where else ''}: {exc.message}"
    return None


class OpenLineageName(Strict):
    """The dataset's name as OpenLineage events give it (before mapping to registry names)."""

    namespace: Annotated[str, Field(min_length=1, max_length=1024)]
    name: Annotated[str, Field(min_length=1, max_length=1024)]


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
    forceIncompatible: Annotated[str, Field(min_length=1, max_length=1024)] | None = Field(
        default=None,
        description="the reason for accepting a schema that breaks the compatibility mode; "
        "recorded in the change log",
    )
    openlineage: OpenLineageName | None = None

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
