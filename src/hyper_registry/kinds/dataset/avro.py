"""Avro schemas: parsing (with fastavro) and the schema-resolution compatibility check.

``incompatibilities(reader, writer)`` answers "can data written with ``writer`` be read
with ``reader``?" under the Avro specification's schema-resolution rules, as Avro's
``SchemaCompatibility`` (and so Confluent Schema Registry) applies them statically:

* the same primitive type, or a promotion: int -> long, float, double; long -> float,
  double; float -> double; string <-> bytes;
* records: names match (unqualified, or the reader lists the writer's full name as an
  alias); every reader field is found in the writer (by name or alias) and readable,
  or has a default; writer fields the reader does not know are skipped;
* enums: names match; every writer symbol is a reader symbol, unless the reader has a
  default symbol;
* fixed: names and sizes match; arrays and maps: items and values are readable;
* a writer union: every branch must be readable; a reader union: some branch must read
  the writer's type.

Logical types are read as their underlying type. Each reason names the path where it
arises (``/fields/h/type``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hyper_registry.core.errors import Invalid

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
PROMOTIONS: Mapping[str, frozenset[str]] = {
    "int": frozenset({"long", "float", "double"}),
    "long": frozenset({"float", "double"}),
    "float": frozenset({"double"}),
    "string": frozenset({"bytes"}),
    "bytes": frozenset({"string"}),
}
"""Writer type -> the reader types it may be promoted to."""

MAX_SCHEMA_DEPTH = 64


class AvroSchema:
    """A parsed Avro schema with its named types, ready for compatibility checks."""

    def __init__(self, root: Any, names: Mapping[str, Any]) -> None:
        self.root = root
        self.names = dict(names)

    def resolve(self, node: Any) -> Any:
        """The definition a named reference stands for (or the node itself)."""
        if isinstance(node, str) and node not in PRIMITIVES:
            return self.names.get(node, node)
        return node


def parse(definition: Any) -> AvroSchema:
    """Parse and validate an Avro schema (a JSON text or its decoded form)."""
    from fastavro.schema import SchemaParseException, UnknownType, parse_schema

    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except RecursionError:
            raise Invalid.at(
                ("definition",), "the Avro schema nests too deeply", "too-deep"
            ) from None
        except ValueError as exc:
            raise Invalid.at(
                ("definition",), f"the Avro schema is not JSON: {exc}", "bad-schema"
            ) from None
    try:
        parsed = parse_schema(definition, _write_hint=False)
    except RecursionError:
        raise Invalid.at(("definition",), "the Avro schema nests too deeply", "too-deep") from None
    except (
        SchemaParseException,
        UnknownType,
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
    ) as exc:
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, KeyError):
            reason = f"missing key {exc}"
        raise Invalid.at(
            ("definition",), f"not a valid Avro schema: {reason}", "bad-schema"
        ) from None
    names = parsed.get("__named_schemas", {}) if isinstance(parsed, dict) else {}
    try:
        root = _strip(parsed, 0)
        return AvroSchema(root, {k: _strip(v, 0) for k, v in names.items()})
    except RecursionError:
        raise Invalid.at(("definition",), "the Avro schema nests too deeply", "too-deep") from None


def _strip(node: Any, depth: int) -> Any:
    if depth > MAX_SCHEMA_DEPTH * 4:
        raise RecursionError
    if isinstance(node, dict):
        return {k: _strip(v, depth + 1) for k, v in node.items() if not k.startswith("__")}
    if isinstance(node, list):
        return [_strip(v, depth + 1) for v in node]
    return node


def type_name(schema: AvroSchema, node: Any) -> str:
    """The Avro type of a node: a primitive, record, enum, fixed, array, map or union."""
    node = schema.resolve(node)
    if isinstance(node, list):
        return "union"
    if isinstance(node, dict):
        t = node.get("type")
        if isinstance(t, str) and t in PRIMITIVES:
            return t  # a primitive with attributes (a logical type)
        return str(t)
    return str(node)


def describe(schema: AvroSchema, node: Any) -> str:
    """A short text of a type for messages: ``int``, ``record Foo``, ``["null","string"]``."""
    node = schema.resolve(node)
    t = type_name(schema, node)
    if t == "union":
        return "[" + ", ".join(describe(schema, b) for b in node) + "]"
    if t in ("record", "enum", "fixed"):
        return f"{t} {node.get('name')}"
    if t == "array":
        return f"array<{describe(schema, node.get('items'))}>"
    if t == "map":
        return f"map<{describe(schema, node.get('values'))}>"
    return t


def _short(name: Any) -> str:
    return str(name).rsplit(".", 1)[-1]


def _names_match(reader: Mapping[str, Any], writer: Mapping[str, Any]) -> bool:
    if _short(reader.get("name")) == _short(writer.get("name")):
        return True
    aliases = reader.get("aliases") or []
    return str(writer.get("name")) in aliases or _short(writer.get("name")) in aliases


def incompatibilities(reader: AvroSchema, writer: AvroSchema) -> list[str]:
    """Every reason data written with ``writer`` cannot be read with ``reader`` (empty: it can)."""
    out: list[str] = []
    _check(reader, reader.root, writer, writer.root, "", out, set(), 0)
    return out


def _check(
    rs: AvroSchema,
    rnode: Any,
    ws: AvroSchema,
    wnode: Any,
    path: str,
    out: list[str],
    seen: set[tuple[str, str]],
    depth: int,
) -> None:
    where = path or "/"
    if depth > MAX_SCHEMA_DEPTH:
        out.append(f"{where}: the schema nests deeper than {MAX_SCHEMA_DEPTH} levels")
        return
    # Recursive named types: a (reader, writer) pair of names already under check is fine.
    key = (_named_key(rnode), _named_key(wnode))
    if key[0] and key[1]:
        if key in seen:
            return
        seen = seen | {key}
    r = rs.resolve(rnode)
    w = ws.resolve(wnode)
    rt, wt = type_name(rs, r), type_name(ws, w)

    if wt == "union":
        for i, branch in enumerate(w):
            sub: list[str] = []
            _check(rs, r, ws, branch, path, sub, seen, depth + 1)
            if sub:
                out.append(
                    f"{where}: the writer's union branch {i} ({describe(ws, branch)}) cannot be "
                    f"read as {describe(rs, r)}"
                )
        return
    if rt == "union":
        for branch in r:
            sub = []
            _check(rs, branch, ws, w, path, sub, seen, depth + 1)
            if not sub:
                return
        out.append(
            f"{where}: the reader's union {describe(rs, r)} has no branch that reads "
            f"{describe(ws, w)}"
        )
        return
    if rt != wt:
        if rt in PROMOTIONS.get(wt, frozenset()):
            return
        out.append(f"{where}: type {describe(ws, w)} cannot be read as {describe(rs, r)}")
        return
    if rt in PRIMITIVES:
        return
    if rt == "record":
        _record(rs, r, ws, w, path, out, seen, depth)
    elif rt == "enum":
        if not _names_match(r, w):
            out.append(f"{where}: enum name {w.get('name')!r} does not match {r.get('name')!r}")
            return
        missing = [s for s in w.get("symbols", []) if s not in set(r.get("symbols", []))]
        if missing and r.get("default") is None:
            out.append(
                f"{where}: the reader's enum {r.get('name')} lacks the writer's symbols "
                f"{', '.join(missing)} and has no default"
            )
    elif rt == "fixed":
        if not _names_match(r, w):
            out.append(f"{where}: fixed name {w.get('name')!r} does not match {r.get('name')!r}")
        elif r.get("size") != w.get("size"):
            out.append(f"{where}: fixed size {w.get('size')} does not match {r.get('size')}")
    elif rt == "array":
        _check(rs, r.get("items"), ws, w.get("items"), f"{path}/items", out, seen, depth + 1)
    elif rt == "map":
        _check(rs, r.get("values"), ws, w.get("values"), f"{path}/values", out, seen, depth + 1)


def _named_key(node: Any) -> str:
    if isinstance(node, str) and node not in PRIMITIVES:
        return node
    if isinstance(node, dict) and node.get("type") in ("record", "enum", "fixed"):
        return str(node.get("name"))
    return ""


def _record(
    rs: AvroSchema,
    r: Mapping[str, Any],
    ws: AvroSchema,
    w: Mapping[str, Any],
    path: str,
    out: list[str],
    seen: set[tuple[str, str]],
    depth: int,
) -> None:
    where = path or "/"
    if not _names_match(r, w):
        out.append(
            f"{where}: record name {_short(w.get('name'))!r} does not match "
            f"{_short(r.get('name'))!r}"
        )
    writer_fields: dict[str, Mapping[str, Any]] = {f["name"]: f for f in w.get("fields", [])}
    for field in r.get("fields", []):
        name = field["name"]
        found = writer_fields.get(name)
        if found is None:
            for alias in field.get("aliases") or []:
                found = writer_fields.get(alias)
                if found is not None:
                    break
        fpath = f"{path}/fields/{name}"
        if found is None:
            if "default" not in field:
                out.append(
                    f"{fpath}: the reader's field {name!r} is missing from the writer's "
                    "schema and has no default"
                )
            continue
        _check(rs, field["type"], ws, found["type"], f"{fpath}/type", out, seen, depth + 1)


def fields_of(schema: AvroSchema) -> list[dict[str, Any]]:
    """The top-level record's fields in the native form (name, type, nullable, default)."""
    root = schema.resolve(schema.root)
    if type_name(schema, root) != "record":
        return [{"name": "value", "type": describe(schema, root), "nullable": False}]
    out: list[dict[str, Any]] = []
    for f in root.get("fields", []):
        t = schema.resolve(f["type"])
        nullable = type_name(schema, t) == "union" and any(
            type_name(schema, b) == "null" for b in t
        )
        if nullable and len(t) == 2:
            other = next(b for b in t if type_name(schema, b) != "null")
            shown = describe(schema, other)
        else:
            shown = describe(schema, t)
        item: dict[str, Any] = {"name": f["name"], "type": shown, "nullable": nullable}
        if "default" in f:
            item["default"] = f["default"]
        out.append(item)
    return out
