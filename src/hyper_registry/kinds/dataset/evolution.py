"""Schema evolution: the diff between two versions and the compatibility modes.

A schema is written in one of three forms (``spec.schema.format``): ``native`` (a
field list), ``avro`` (an Avro schema) or ``jsonschema`` (a JSON Schema whose top level
is an object). Each is read into the same field list for diffs. Compatibility follows
Confluent Schema Registry's modes:

=====================  ==========================================================
BACKWARD               the new schema reads data written with the latest version
BACKWARD_TRANSITIVE    the new schema reads data written with every earlier version
FORWARD                the latest version reads data written with the new schema
FORWARD_TRANSITIVE     every earlier version reads data written with the new schema
FULL                   BACKWARD and FORWARD
FULL_TRANSITIVE        BACKWARD_TRANSITIVE and FORWARD_TRANSITIVE
NONE                   no check
=====================  ==========================================================

"Reads" is Avro schema resolution for two Avro schemas (``avro.py``); for other pairs
it is the same idea on the field lists: a reader field must be in the writer (with
the same type, or one the writer's type is promoted to, and not null where the writer
allows null) or have a default (a nullable native field, or a JSON Schema property
that is not required, counts as having one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hyper_registry.kinds.dataset import avro

if TYPE_CHECKING:
    from hyper_registry.kinds.dataset.spec import Schema

_CANON = {
    "integer": "int",
    "int32": "int",
    "smallint": "int",
    "tinyint": "int",
    "bigint": "long",
    "int64": "long",
    "real": "float",
    "float32": "float",
    "float64": "double",
    "double precision": "double",
    "varchar": "string",
    "text": "string",
    "char": "string",
    "str": "string",
    "binary": "bytes",
    "varbinary": "bytes",
    "bool": "boolean",
}
_PROMOTIONS = {
    **avro.PROMOTIONS,
    "int": frozenset({"long", "float", "double", "number"}),
    "long": frozenset({"float", "double", "number"}),
    "float": frozenset({"double", "number"}),
}


@dataclass(frozen=True)
class FieldInfo:
    name: str
    type: str
    nullable: bool
    has_default: bool
    default: Any = None


def canonical_type(text: str) -> str:
    t = text.strip().lower()
    return _CANON.get(t, t)


def fields_of(schema: Schema) -> list[FieldInfo]:
    """The schema's top-level fields, whatever its form."""
    if schema.format == "avro":
        return [
            FieldInfo(f["name"], f["type"], f["nullable"], "default" in f, f.get("default"))
            for f in avro.fields_of(avro.parse(schema.definition))
        ]
    if schema.format == "jsonschema":
        return _json_fields(schema.definition)
    return [
        FieldInfo(f.name, f.type, f.nullable, f.has_default or f.nullable, f.default)
        for f in schema.fields
    ]


def _json_fields(definition: Any) -> list[FieldInfo]:
    if not isinstance(definition, dict):
        return []
    required = set(definition.get("required") or [])
    out: list[FieldInfo] = []
    for name, prop in (definition.get("properties") or {}).items():
        prop = prop if isinstance(prop, dict) else {}
        raw = prop.get("type")
        types = [raw] if isinstance(raw, str) else [t for t in (raw or []) if isinstance(t, str)]
        nullable = "null" in types
        others = [t for t in types if t != "null"]
        if others:
            shown = others[0] if len(others) == 1 else "|".join(others)
        elif "$ref" in prop:
            shown = str(prop["$ref"])
        elif "enum" in prop:
            shown = "enum"
        else:
            shown = "any"
        out.append(
            FieldInfo(
                str(name),
                shown,
                nullable,
                name not in required or "default" in prop,
                prop.get("default"),
            )
        )
    return out


def diff(old: Schema | None, new: Schema | None) -> list[dict[str, Any]]:
    """What changed from ``old`` to ``new``: fields added, removed, retyped, nullability, defaults."""
    before = {f.name: f for f in fields_of(old)} if old is not None else {}
    after = {f.name: f for f in fields_of(new)} if new is not None else {}
    out: list[dict[str, Any]] = []
    for name, f in after.items():
        if name not in before:
            out.append(
                {
                    "change": "added",
                    "field": name,
                    "type": f.type,
                    "nullable": f.nullable,
                    "hasDefault": f.has_default,
                }
            )
    for name, f in before.items():
        if name not in after:
            out.append({"change": "removed", "field": name, "type": f.type})
    for name, f in after.items():
        old_f = before.get(name)
        if old_f is None:
            continue
        if canonical_type(old_f.type) != canonical_type(f.type):
            out.append({"change": "type", "field": name, "from": old_f.type, "to": f.type})
        if old_f.nullable != f.nullable:
            out.append(
                {"change": "nullability", "field": name, "from": old_f.nullable, "to": f.nullable}
            )
        if (old_f.has_default, old_f.default) != (f.has_default, f.default):
            out.append(
                {
                    "change": "default",
                    "field": name,
                    "from": old_f.default if old_f.has_default else None,
                    "to": f.default if f.has_default else None,
                    "hadDefault": old_f.has_default,
                    "hasDefault": f.has_default,
                }
            )
    return out


def reads(reader: Schema, writer: Schema) -> list[str]:
    """Why data written with ``writer`` cannot be read with ``reader`` (empty: it can)."""
    if reader.format == "avro" and writer.format == "avro":
        return avro.incompatibilities(avro.parse(reader.definition), avro.parse(writer.definition))
    wf = {f.name: f for f in fields_of(writer)}
    out: list[str] = []
    for f in fields_of(reader):
        w = wf.get(f.name)
        if w is None:
            if not f.has_default:
                out.append(
                    f"field {f.name!r} is missing from the writer's schema and has no default"
                )
            continue
        rt, wt = canonical_type(f.type), canonical_type(w.type)
        if rt != wt and rt not in _PROMOTIONS.get(wt, frozenset()):
            out.append(f"field {f.name!r}: type {w.type} cannot be read as {f.type}")
        if w.nullable and not f.nullable:
            out.append(f"field {f.name!r}: the writer allows null but the reader does not")
    return out


@dataclass(frozen=True)
class Reason:
    """One incompatibility: the mode's direction, the earlier version involved, and why."""

    direction: str  # "backward": the new schema reads the old data; "forward": the reverse
    version: str
    message: str

    def text(self) -> str:
        if self.direction == "backward":
            who = f"the new schema cannot read data written with version {self.version}"
        else:
            who = f"version {self.version} cannot read data written with the new schema"
        return f"{who}: {self.message}"


def check(mode: str, new: Schema, earlier: Sequence[tuple[str, Schema]]) -> list[Reason]:
    """Every reason ``new`` breaks ``mode`` against ``earlier`` ((version, schema), newest first)."""
    if mode == "NONE" or not earlier:
        return []
    against = earlier if mode.endswith("_TRANSITIVE") else earlier[:1]
    base = mode.removesuffix("_TRANSITIVE")
    out: list[Reason] = []
    for version, old in against:
        if base in ("BACKWARD", "FULL"):
            out.extend(Reason("backward", version, m) for m in reads(new, old))
        if base in ("FORWARD", "FULL"):
            out.extend(Reason("forward", version, m) for m in reads(old, new))
    return out
