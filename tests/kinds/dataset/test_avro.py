"""Avro schema resolution, checked by hand on the Avro project's own evolution fixtures.

``full_record_v1.avsc`` is the "old" schema and ``full_record_v2.avsc`` the "new" one
(Avro's Java compiler tests). Read field by field (see docs/ml.md for the table):

* BACKWARD (v2 reads data written with v1) fails: ``i64`` is ``int`` in v2 but ``long``
  in v1 (long cannot be narrowed to int), ``f64`` is ``long`` in v2 but ``double`` in v1,
  ``newfield`` and ``myMap`` are new without defaults, and ``h`` is ``bytes`` in v2 but
  ``["null","string"]`` in v1 (the writer's null branch has no reading as bytes).
* FORWARD (v1 reads data written with v2) fails on one field only: ``f32`` is ``float``
  in v1 but ``["float","null"]`` in v2 (a null written by v2 cannot be read as float).
  Everything else resolves: int -> long (``i64``), long -> double (``f64``), bytes ->
  string inside v1's union (``h``), ``s`` missing from v2 but defaulted in v1, and v2's
  extra fields skipped.
* Both directions also fail on the record names (FullRecordV1 vs FullRecordV2), as
  Avro's SchemaCompatibility and Confluent report them.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from hyper_registry.core.errors import Invalid
from hyper_registry.kinds.dataset import avro

SCHEMAS = Path(__file__).resolve().parents[2] / "fixtures" / "ml" / "schemas"


def load(name: str) -> Any:
    return json.loads((SCHEMAS / name).read_text())


def reads(reader: Any, writer: Any) -> list[str]:
    return avro.incompatibilities(avro.parse(reader), avro.parse(writer))


@pytest.fixture
def v1() -> Any:
    return load("full_record_v1.avsc")


@pytest.fixture
def v2_same_name() -> Any:
    """v2 under v1's record name, to see the field-level facts alone."""
    v2 = load("full_record_v2.avsc")
    v2["name"] = "FullRecordV1"
    return v2


def test_full_record_backward_fails_for_five_fields(v1: Any, v2_same_name: Any) -> None:
    assert reads(v2_same_name, v1) == [
        "/fields/i64/type: type long cannot be read as int",
        "/fields/f64/type: type double cannot be read as long",
        "/fields/newfield: the reader's field 'newfield' is missing from the writer's schema "
        "and has no default",
        "/fields/h/type: the writer's union branch 0 (null) cannot be read as bytes",
        "/fields/myMap: the reader's field 'myMap' is missing from the writer's schema "
        "and has no default",
    ]


def test_full_record_forward_fails_only_on_f32(v1: Any, v2_same_name: Any) -> None:
    assert reads(v1, v2_same_name) == [
        "/fields/f32/type: the writer's union branch 1 (null) cannot be read as float"
    ]


def test_full_record_forward_holds_once_f32_cannot_be_null(v1: Any, v2_same_name: Any) -> None:
    fixed = copy.deepcopy(v2_same_name)
    next(f for f in fixed["fields"] if f["name"] == "f32")["type"] = "float"
    assert reads(v1, fixed) == []  # forward compatible now ...
    assert reads(fixed, v1) != []  # ... and still not backward compatible


def test_full_record_names_differ_both_ways(v1: Any) -> None:
    v2 = load("full_record_v2.avsc")
    name = "/: record name 'FullRecordV1' does not match 'FullRecordV2'"
    assert reads(v2, v1)[0] == name
    assert reads(v1, v2)[0] == "/: record name 'FullRecordV2' does not match 'FullRecordV1'"
    assert len(reads(v2, v1)) == 6 and len(reads(v1, v2)) == 2


@pytest.mark.parametrize("name", ["user.avsc", "interop.avsc", "full_record_v1.avsc"])
def test_a_schema_reads_itself(name: str) -> None:
    schema = load(name)
    assert reads(schema, schema) == []


@pytest.mark.parametrize(
    ("writer", "reader", "ok"),
    [
        ("int", "long", True),
        ("int", "float", True),
        ("int", "double", True),
        ("long", "float", True),
        ("long", "double", True),
        ("float", "double", True),
        ("string", "bytes", True),
        ("bytes", "string", True),
        ("long", "int", False),
        ("double", "float", False),
        ("string", "int", False),
        ("boolean", "int", False),
    ],
)
def test_primitive_promotions(writer: str, reader: str, ok: bool) -> None:
    def rec(t: str) -> dict[str, Any]:
        return {"type": "record", "name": "R", "fields": [{"name": "x", "type": t}]}

    assert (reads(rec(reader), rec(writer)) == []) is ok


def test_enum_symbols_and_default() -> None:
    def enum(symbols: list[str], default: str | None = None) -> dict[str, Any]:
        e: dict[str, Any] = {"type": "enum", "name": "Colour", "symbols": symbols}
        if default:
            e["default"] = default
        return e

    assert reads(enum(["RED", "GREEN", "BLUE"]), enum(["RED", "GREEN"])) == []
    assert reads(enum(["RED"]), enum(["RED", "GREEN"])) == [
        "/: the reader's enum Colour lacks the writer's symbols GREEN and has no default"
    ]
    assert reads(enum(["RED", "OTHER"], "OTHER"), enum(["RED", "GREEN"])) == []


def test_added_field_needs_a_default_for_backward() -> None:
    old = load("user.avsc")
    new = copy.deepcopy(old)
    new["fields"].append({"name": "age", "type": "int"})
    assert reads(new, old) == [
        "/fields/age: the reader's field 'age' is missing from the writer's schema "
        "and has no default"
    ]
    new["fields"][-1]["default"] = 0
    assert reads(new, old) == []
    assert reads(old, new) == []  # the old reader skips the new field


def test_unions_arrays_maps_and_fixed() -> None:
    def rec(t: Any) -> dict[str, Any]:
        return {"type": "record", "name": "R", "fields": [{"name": "x", "type": t}]}

    assert reads(rec(["null", "long"]), rec("int")) == []
    assert reads(rec("long"), rec(["null", "int"])) == [
        "/fields/x/type: the writer's union branch 0 (null) cannot be read as long"
    ]
    assert (
        reads(rec({"type": "array", "items": "long"}), rec({"type": "array", "items": "int"})) == []
    )
    assert reads(
        rec({"type": "map", "values": "int"}), rec({"type": "map", "values": "string"})
    ) == ["/fields/x/type/values: type string cannot be read as int"]
    f8 = {"type": "fixed", "name": "F", "size": 8}
    f16 = {"type": "fixed", "name": "F", "size": 16}
    assert reads(rec(f16), rec(f8)) == ["/fields/x/type: fixed size 8 does not match 16"]


def test_recursive_schema_terminates() -> None:
    node = {
        "type": "record",
        "name": "Node",
        "fields": [
            {"name": "label", "type": "string"},
            {"name": "children", "type": {"type": "array", "items": "Node"}},
        ],
    }
    assert reads(node, node) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("enum_without_name", "the Avro schema is not JSON"),
        ("record_with_field_missing_type", "Record field 'Sponsor' is missing 'type'"),
    ],
)
def test_invalid_schemas_are_refused(name: str, message: str) -> None:
    with pytest.raises(Invalid) as err:
        avro.parse((SCHEMAS / name).read_text())
    assert message in err.value.message
    assert err.value.problems[0].code == "bad-schema"


def test_fields_of_user() -> None:
    assert avro.fields_of(avro.parse(load("user.avsc"))) == [
        {"name": "name", "type": "string", "nullable": False},
        {"name": "favorite_number", "type": "int", "nullable": True},
        {"name": "favorite_color", "type": "string", "nullable": True},
    ]


def test_hostile_nesting_is_refused_not_crashed() -> None:
    deep: Any = "int"
    for _ in range(3000):
        deep = {"type": "array", "items": deep}
    for definition in (deep, '{"type":"array","items":' * 5000 + '"int"' + "}" * 5000):
        with pytest.raises(Invalid) as err:
            avro.parse(definition)
        assert err.value.problems[0].code == "too-deep"
