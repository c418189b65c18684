"""The dataset kind: schema, compatibility, quality and lineage."""

from __future__ import annotations

from typing import Any

import pytest

from hyper_registry.core.kind import ImpliedRelation
from hyper_registry.core.ref import Ref
from hyper_registry.kinds.dataset import COMPATIBILITY_MODES, KIND, DatasetSpec

from .kindcheck import check, only

RAW = "dataset:shop/raw@2026-09"
CLICKS = "dataset:shop/clicks@2026-09"


def spec(**fields: Any) -> dict[str, Any]:
    return {"format": "parquet", "location": "s3://lake/x/", **fields}


def test_minimal_and_defaults() -> None:
    assert check("dataset", {}) == []
    ds = DatasetSpec.model_validate({})
    assert ds.compatibility == "BACKWARD"
    assert ds.schema_ is None


@pytest.mark.parametrize(
    "location", ["s3://lake/x/", "gs://b/p", "file:///data/x.csv", "abfss://c@a.dfs/x"]
)
def test_locations_accepted(location: str) -> None:
    assert check("dataset", spec(location=location)) == []


@pytest.mark.parametrize("location", ["/data/x.csv", "lake x", "s3:// bucket"])
def test_locations_refused(location: str) -> None:
    assert only(check("dataset", spec(location=location))) == (
        "spec.location",
        f"location {location!r} must be a URI with a scheme and no spaces, "
        "like s3://bucket/path/ or file:///data/x",
    )


def test_schema_fields() -> None:
    fields = [
        {"name": "id", "type": "string"},
        {"name": "amount", "type": "decimal(10,2)", "nullable": True, "default": None},
        {"name": "country", "type": "string", "default": "NL", "description": "ISO code"},
    ]
    ds = DatasetSpec.model_validate(spec(schema={"fields": fields}))
    assert ds.schema_ is not None
    id_, amount, country = ds.schema_.fields
    assert (id_.nullable, id_.has_default) == (False, False)
    assert (amount.nullable, amount.has_default, amount.default) == (True, True, None)
    assert (country.has_default, country.default) == (True, "NL")
    assert ds.schema_.field("amount") is amount
    assert ds.schema_.field("nope") is None
    assert check("dataset", spec(schema={"fields": fields})) == []


def test_schema_field_names_unique() -> None:
    fields = [
        {"name": "id", "type": "string"},
        {"name": "x", "type": "int"},
        {"name": "id", "type": "int"},
    ]
    assert only(check("dataset", spec(schema={"fields": fields}))) == (
        "spec.schema.fields[2].name",
        "field 'id' is listed twice (first at spec.schema.fields[0])",
    )


def test_schema_field_shape() -> None:
    def field(**f: Any) -> dict[str, Any]:
        return spec(schema={"fields": [f]})

    assert only(check("dataset", field(name="id"))) == (
        "spec.schema.fields[0].type",
        "Field required",
    )
    assert only(check("dataset", field(name="", type="int")))[0] == "spec.schema.fields[0].name"
    assert only(check("dataset", field(name="a", type="int", nullable="no"))) == (
        "spec.schema.fields[0].nullable",
        "Input should be a valid boolean",
    )
    assert only(check("dataset", spec(schema={"columns": []}))) == (
        "spec.schema.columns",
        "Extra inputs are not permitted",
    )


@pytest.mark.parametrize("mode", COMPATIBILITY_MODES)
def test_compatibility_modes(mode: str) -> None:
    assert check("dataset", spec(compatibility=mode)) == []


def test_unknown_compatibility_refused() -> None:
    assert only(check("dataset", spec(compatibility="backward"))) == (
        "spec.compatibility",
        "compatibility 'backward' is not one of: BACKWARD, BACKWARD_TRANSITIVE, FORWARD, "
        "FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE, NONE",
    )


def test_quality_and_thresholds() -> None:
    quality = {
        "completeness": 1,
        "accuracy": 0.9,
        "consistency": 0,
        "validity": 0.5,
        "uniqueness": 0.99,
        "freshness": 0.7,
    }
    thresholds = {"accuracy": 0.95, "freshness": 0.5, "validity": 0.9}
    ds = DatasetSpec.model_validate(spec(quality=quality, qualityThresholds=thresholds))
    assert check("dataset", spec(quality=quality, qualityThresholds=thresholds)) == []
    # below a threshold is an alert, not a refusal
    assert ds.quality_breaches() == [("accuracy", 0.9, 0.95), ("validity", 0.5, 0.9)]


@pytest.mark.parametrize("field", ["quality", "qualityThresholds"])
def test_quality_ranges(field: str) -> None:
    assert only(check("dataset", spec(**{field: {"completeness": 1.5}}))) == (
        f"spec.{field}.completeness",
        "Input should be less than or equal to 1",
    )
    assert only(check("dataset", spec(**{field: {"timeliness": 0.5}}))) == (
        f"spec.{field}.timeliness",
        "Extra inputs are not permitted",
    )


def test_lineage_implies_derived_from_once() -> None:
    ds = DatasetSpec.model_validate(
        spec(
            upstream=[RAW],
            transformations=[
                {"name": "join", "job": "airflow://dag/join", "inputs": [RAW, CLICKS]},
                {
                    "name": "dedupe",
                    "job": "dbt://models/dedupe",
                    "inputs": [CLICKS],
                    "outputs": [RAW],
                },
            ],
        )
    )
    assert KIND.relations_of(ds) == [
        ImpliedRelation("derivedFrom", Ref.parse(RAW), ("spec", "upstream", 0)),
        ImpliedRelation(
            "derivedFrom", Ref.parse(CLICKS), ("spec", "transformations", 0, "inputs", 1)
        ),
    ]


def test_lineage_refs_are_datasets() -> None:
    assert only(check("dataset", spec(upstream=["model:shop/m"]))) == (
        "spec.upstream[0]",
        "reference 'model:shop/m' must point at a dataset, not a model",
    )
    bad = [{"name": "t", "job": "j", "inputs": ["infra:a/b"]}]
    assert only(check("dataset", spec(transformations=bad))) == (
        "spec.transformations[0].inputs[0]",
        "reference 'infra:a/b' must point at a dataset, not an infra",
    )


def test_transformation_shape() -> None:
    def step(**t: Any) -> dict[str, Any]:
        return spec(transformations=[t])

    assert only(check("dataset", step(name="t", job="j", inputs=[]))) == (
        "spec.transformations[0].inputs",
        "List should have at least 1 item after validation, not 0",
    )
    assert only(check("dataset", step(name="Join!", job="j", inputs=[RAW]))) == (
        "spec.transformations[0].name",
        "transformation name 'Join!' must use lowercase letters, digits, '-', '_' and '.', "
        "and start and end with a letter or digit",
    )
    assert only(check("dataset", spec(transformations=[{"name": "t", "inputs": [RAW]}]))) == (
        "spec.transformations[0].job",
        "Field required",
    )


def test_repeats_refused() -> None:
    steps = [{"name": "t", "job": "j", "inputs": [RAW]}, {"name": "t", "job": "k", "inputs": [RAW]}]
    assert only(check("dataset", spec(transformations=steps))) == (
        "spec.transformations[1].name",
        "transformation 't' is listed twice (first at spec.transformations[0])",
    )
    assert only(check("dataset", spec(upstream=[RAW, RAW]))) == (
        "spec.upstream[1]",
        f"dataset {RAW!r} is listed twice (first at spec.upstream[0])",
    )


def test_not_derived_from_itself() -> None:
    me = "dataset:team/thing@2026-09"
    problems = check("dataset", spec(upstream=[me]), version="2026-09")
    assert only(problems) == ("spec.upstream[0]", f"{me!r} is this dataset itself")
    steps = [{"name": "t", "job": "j", "inputs": [RAW, me]}]
    assert only(check("dataset", spec(transformations=steps), version="2026-09")) == (
        "spec.transformations[0].inputs[1]",
        f"{me!r} is this dataset itself",
    )
    # the previous version (or the unversioned name) is fine
    assert check("dataset", spec(upstream=["dataset:team/thing@2026-08"]), version="2026-09") == []


def test_unknown_fields_refused() -> None:
    assert only(check("dataset", spec(rows=10))) == ("spec.rows", "Extra inputs are not permitted")
    # the attribute name is not an input name
    assert only(check("dataset", spec(schema_={"fields": []}))) == (
        "spec.schema_",
        "Extra inputs are not permitted",
    )
