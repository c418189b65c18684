"""Schema evolution through the registry: diffs, compatibility modes, forced changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hyper_registry import Registry
from hyper_registry.core.errors import Invalid
from hyper_registry.kinds.dataset import evolution
from hyper_registry.kinds.dataset.service import check_schema, schema_diff
from hyper_registry.kinds.dataset.spec import Schema

SCHEMAS = Path(__file__).resolve().parents[2] / "fixtures" / "ml" / "schemas"


def ds(
    version: str, fields: list[dict[str, Any]] | None = None, *, name: str = "tx", **spec: Any
) -> dict[str, Any]:
    body: dict[str, Any] = dict(spec)
    if fields is not None:
        body["schema"] = {"fields": fields}
    return {
        "apiVersion": "hyper-registry/v1",
        "kind": "dataset",
        "metadata": {"namespace": "risk", "name": name, "version": version},
        "spec": body,
    }


def avro_ds(version: str, definition: Any, **spec: Any) -> dict[str, Any]:
    doc = ds(version, **spec)
    doc["spec"]["schema"] = {"format": "avro", "definition": definition}
    return doc


ID = {"name": "id", "type": "string"}
AMOUNT = {"name": "amount", "type": "double"}


def messages(exc: Invalid) -> list[str]:
    return [p.message for p in exc.problems]


def test_added_required_field_refused_under_backward_with_consumers(registry: Registry) -> None:
    registry.apply(ds("1", [ID]))
    registry.apply(
        {
            "kind": "model",
            "metadata": {"namespace": "risk", "name": "scorer", "version": "1.0.0"},
            "spec": {"framework": "xgboost", "trainingDatasets": ["dataset:risk/tx"]},
        }
    )
    with pytest.raises(Invalid) as err:
        registry.apply(ds("2", [ID, AMOUNT]))
    assert messages(err.value) == [
        "BACKWARD: the new schema cannot read data written with version 1: field 'amount' is "
        "missing from the writer's schema and has no default",
        "consumers that would break: model:risk/scorer@1.0.0; set spec.forceIncompatible to "
        "a reason to accept the change anyway",
    ]
    assert {p.path for p in err.value.problems} == {"spec.schema"}
    assert [e.metadata.version for e in registry.versions("dataset:risk/tx")] == ["1"]

    # With a default the version is accepted, and the diff is in the change log.
    registry.apply(ds("2", [ID, {**AMOUNT, "default": 0}]))
    rows = [c for c in registry.changes() if c.op == "dataset.schema"]
    assert [(r.ref, r.detail) for r in rows] == [
        (
            "dataset:risk/tx@2",
            {
                "previous": "1",
                "changes": [
                    {
                        "change": "added",
                        "field": "amount",
                        "type": "double",
                        "nullable": False,
                        "hasDefault": True,
                    }
                ],
            },
        )
    ]


def test_every_reason_is_listed(registry: Registry) -> None:
    registry.apply(ds("1", [ID, AMOUNT], compatibility="FULL"))
    with pytest.raises(Invalid) as err:
        registry.apply(
            ds(
                "2",
                [{"name": "id", "type": "int"}, {"name": "x", "type": "int"}],
                compatibility="FULL",
            )
        )
    assert messages(err.value) == [
        "FULL: the new schema cannot read data written with version 1: field 'id': type string "
        "cannot be read as int",
        "FULL: the new schema cannot read data written with version 1: field 'x' is missing "
        "from the writer's schema and has no default",
        "FULL: version 1 cannot read data written with the new schema: field 'id': type int "
        "cannot be read as string",
        "FULL: version 1 cannot read data written with the new schema: field 'amount' is "
        "missing from the writer's schema and has no default",
        "set spec.forceIncompatible to a reason to accept the change anyway",
    ]


def test_forward_allows_removal_only_of_defaulted_fields(registry: Registry) -> None:
    registry.apply(ds("1", [ID, {**AMOUNT, "default": 0}], compatibility="FORWARD"))
    registry.apply(ds("2", [ID], compatibility="FORWARD"))  # old readers default amount
    with pytest.raises(Invalid) as err:
        registry.apply(ds("3", [AMOUNT], compatibility="FORWARD"))
    assert "version 2 cannot read data written with the new schema: field 'id'" in str(
        err.value.problems[0].message
    )


def test_transitive_checks_every_earlier_version(registry: Registry) -> None:
    # v1 has no 'amount'; v2 adds it with a default; v3 removes the default.
    registry.apply(ds("1", [ID], compatibility="BACKWARD"))
    registry.apply(ds("2", [ID, {**AMOUNT, "default": 0}], compatibility="BACKWARD"))
    v3 = [ID, AMOUNT]
    # BACKWARD only looks at v2 (which has amount): accepted.
    assert (
        evolution.check(
            "BACKWARD",
            Schema.model_validate({"fields": v3}),
            [
                ("2", Schema.model_validate({"fields": [ID, {**AMOUNT, "default": 0}]})),
                ("1", Schema.model_validate({"fields": [ID]})),
            ],
        )
        == []
    )
    with pytest.raises(Invalid) as err:
        registry.apply(ds("3", v3, compatibility="BACKWARD_TRANSITIVE"))
    assert messages(err.value)[0] == (
        "BACKWARD_TRANSITIVE: the new schema cannot read data written with version 1: field "
        "'amount' is missing from the writer's schema and has no default"
    )
    registry.apply(ds("3", v3, compatibility="BACKWARD"))


def test_none_accepts_anything(registry: Registry) -> None:
    registry.apply(ds("1", [ID], compatibility="NONE"))
    registry.apply(ds("2", [{"name": "other", "type": "int"}], compatibility="NONE"))


def test_forced_change_is_recorded(registry: Registry) -> None:
    registry.apply(ds("1", [ID, AMOUNT]))
    registry.apply(
        ds("2", [ID, AMOUNT, {"name": "x", "type": "int"}], forceIncompatible="backfill")
    )
    forced = [c for c in registry.changes() if c.op == "dataset.forced"]
    assert len(forced) == 1
    assert forced[0].ref == "dataset:risk/tx@2"
    assert forced[0].detail == {
        "mode": "BACKWARD",
        "reason": "backfill",
        "incompatibilities": [
            "the new schema cannot read data written with version 1: field 'x' is missing "
            "from the writer's schema and has no default"
        ],
    }


def test_unknown_mode_and_bad_schemas_refused(registry: Registry) -> None:
    with pytest.raises(Invalid) as err:
        registry.apply(ds("1", [ID], compatibility="SIDEWAYS"))
    assert err.value.problems[0].path == "spec.compatibility"
    assert "is not one of: BACKWARD, BACKWARD_TRANSITIVE" in err.value.problems[0].message
    bad = (SCHEMAS / "record_with_field_missing_type").read_text()
    with pytest.raises(Invalid) as err:
        registry.apply(avro_ds("1", bad))
    assert err.value.problems[0].path == "spec.schema"
    assert "Record field 'Sponsor' is missing 'type'" in err.value.problems[0].message
    with pytest.raises(Invalid) as err:
        registry.apply(
            ds("1", format="x", schema={"format": "jsonschema", "definition": {"type": 5}})
        )
    assert "not a valid JSON Schema" in err.value.problems[0].message


def test_avro_versions_through_the_registry(registry: Registry) -> None:
    v1 = json.loads((SCHEMAS / "full_record_v1.avsc").read_text())
    v2 = json.loads((SCHEMAS / "full_record_v2.avsc").read_text())
    v2["name"] = v1["name"]
    registry.apply(avro_ds("1", v1, compatibility="FORWARD"))
    with pytest.raises(Invalid) as err:
        registry.apply(avro_ds("2", v2, compatibility="FORWARD"))
    assert messages(err.value)[0] == (
        "FORWARD: version 1 cannot read data written with the new schema: /fields/f32/type: "
        "the writer's union branch 1 (null) cannot be read as float"
    )
    next(f for f in v2["fields"] if f["name"] == "f32")["type"] = "float"
    registry.apply(avro_ds("2", v2, compatibility="FORWARD"))
    diff = schema_diff(registry, "dataset:risk/tx@2")
    assert diff["from"] == "1" and diff["to"] == "2"
    changes = {(c["change"], c["field"]) for c in diff["changes"]}
    assert changes == {
        ("added", "newfield"),
        ("added", "myMap"),
        ("removed", "s"),
        ("type", "i64"),
        ("type", "f64"),
        ("type", "h"),
        ("nullability", "h"),
    }


def test_json_schema_cvss_evolution(registry: Registry) -> None:
    v30 = json.loads((SCHEMAS / "cvss-v3.0.json").read_text())
    v31 = json.loads((SCHEMAS / "cvss-v3.1.json").read_text())
    doc = ds("3.0", compatibility="BACKWARD")
    doc["spec"]["schema"] = {"format": "jsonschema", "definition": v30}
    registry.apply(doc)
    result = check_schema(registry, "dataset:risk/tx", {"format": "jsonschema", "definition": v31})
    # The 3.1 schema only changes the version enum; every property keeps its type.
    assert result["compatible"] is True
    assert result["changes"] == []
    fields = {
        f.name: f
        for f in evolution.fields_of(
            Schema.model_validate({"format": "jsonschema", "definition": v31})
        )
    }
    assert fields["version"].has_default is False  # required
    assert fields["attackVector"].has_default is True  # optional


def test_check_without_writing(registry: Registry) -> None:
    registry.apply(ds("1", [ID]))
    out = check_schema(registry, "dataset:risk/tx", {"fields": [ID, AMOUNT]})
    assert out["compatible"] is False
    assert out["mode"] == "BACKWARD"
    assert len(registry.versions("dataset:risk/tx")) == 1
    with pytest.raises(Invalid) as err:
        check_schema(registry, "dataset:risk/tx", {"fields": [ID]}, "SOMETIMES")
    assert err.value.problems[0].path == "compatibility"
