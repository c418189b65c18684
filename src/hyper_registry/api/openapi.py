"""The OpenAPI document: what FastAPI generates, made precise for clients and fuzzers.

Added here because the handlers read their own bodies (JSON or YAML, size-limited):
the request-body schemas (``Document`` as one schema per kind, each with that kind's
Spec model), the name grammar as patterns, the registry's kinds as enums, the bearer
security scheme on every non-public operation, and the event schema of the change
stream. ``allowed_methods`` reads the same document to answer 405 with a full ``Allow``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel

from hyper_registry.api.auth import PUBLIC_PATHS, SCHEME_NAME, SECURITY_SCHEME
from hyper_registry.api.patterns import NAME_PATTERN, VERSION_PATTERN
from hyper_registry.api.schemas import ProblemDocument, TokenCreate
from hyper_registry.core import relations as vocab
from hyper_registry.core.envelope import Document
from hyper_registry.core.kind import KindSpec
from hyper_registry.core.ref import NAME_MAX, NAMESPACE_MAX, VERSION_MAX

STREAM_PATH = "/v1/changes/stream"
CHANGE_EVENT = {
    "type": "object",
    "description": "one change: `id` is its sequence number, `data` the change as JSON",
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$"},
        "event": {"type": "string", "enum": ["change"]},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"$ref": "#/components/schemas/ChangeOut"},
        },
        "retry": {"type": "integer"},
    },
    "required": ["data", "event"],
}


def _component_schemas(model: type[BaseModel], prefix: str = "") -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=f"#/components/schemas/{prefix}{{model}}")
    defs = schema.pop("$defs", {})
    return {f"{prefix}{model.__name__}": schema, **{f"{prefix}{k}": v for k, v in defs.items()}}


def _name(max_length: int) -> dict[str, Any]:
    return {"type": "string", "pattern": NAME_PATTERN, "maxLength": max_length}


def _tighten_envelope(components: dict[str, Any]) -> None:
    md = components["Metadata"]["properties"]
    md["namespace"].update(_name(NAMESPACE_MAX))
    md["name"].update(_name(NAME_MAX))
    md["version"].update({"pattern": VERSION_PATTERN, "maxLength": VERSION_MAX})
    for option in md["owner"].get("anyOf", []):
        if option.get("type") == "string":
            option.update(_name(NAME_MAX))
    md["tags"]["items"].update(_name(NAME_MAX))
    components["Relation"]["properties"]["type"]["enum"] = list(vocab.RELATION_NAMES)


def _documents(components: dict[str, Any], kinds: list[KindSpec]) -> None:
    """``Document`` becomes one schema per kind: the envelope with that kind's Spec model."""
    for name, schema in _component_schemas(Document).items():
        components.setdefault(name, schema)
    _tighten_envelope(components)
    envelope = components.pop("Document")
    mapping: dict[str, str] = {}
    for kind in kinds:
        spec_schemas = _component_schemas(kind.spec_model, prefix=f"{kind.name}.")
        components.update(spec_schemas)
        doc = copy.deepcopy(envelope)
        doc["title"] = f"{kind.name} document"
        doc["description"] = kind.description
        doc["properties"]["kind"] = {"type": "string", "enum": [kind.name]}
        spec_ref = f"#/components/schemas/{kind.name}.{kind.spec_model.__name__}"
        doc["properties"]["spec"] = {"$ref": spec_ref}  # optional: an absent spec is {}
        key = f"Document.{kind.name}"
        components[key] = doc
        mapping[kind.name] = f"#/components/schemas/{key}"
    components["Document"] = {
        "title": "Document",
        "description": envelope.get("description", ""),
        "oneOf": [{"$ref": ref} for ref in mapping.values()],
        "discriminator": {"propertyName": "kind", "mapping": mapping},
    }


def _operations(doc: dict[str, Any], kind_names: list[str]) -> None:
    for url, path in doc.get("paths", {}).items():
        for op in path.values():
            if url not in PUBLIC_PATHS:
                op["security"] = [{SCHEME_NAME: []}]
            for param in op.get("parameters", []):
                if param.get("name") == "kind":
                    _kind_enum(param, kind_names)
            if url == STREAM_PATH:
                op["responses"]["200"]["content"]["text/event-stream"]["schema"] = CHANGE_EVENT


def _kind_enum(param: dict[str, Any], kind_names: list[str]) -> None:
    schema = param.get("schema", {})
    if param.get("in") == "path":
        schema["enum"] = list(kind_names)
        return
    for option in [schema, *schema.get("anyOf", [])]:
        if isinstance(option, dict) and option.get("type") == "array":
            option.setdefault("items", {})["enum"] = list(kind_names)


def install(app: FastAPI, kinds: list[KindSpec]) -> None:
    original: Callable[[], dict[str, Any]] = app.openapi
    kind_names = [k.name for k in kinds]

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = original()
        components = doc.setdefault("components", {}).setdefault("schemas", {})
        for model in (TokenCreate, ProblemDocument):
            for name, schema in _component_schemas(model).items():
                components.setdefault(name, schema)
        _documents(components, kinds)
        doc["components"].setdefault("securitySchemes", {})[SCHEME_NAME] = SECURITY_SCHEME
        _operations(doc, kind_names)
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


def allowed_methods(request: Request) -> str | None:
    """The methods the OpenAPI document lists for the request's path (for ``Allow``)."""
    app = request.app
    table: list[tuple[re.Pattern[str], set[str]]] | None = getattr(app.state, "allow_table", None)
    if table is None:
        table = []
        for template, ops in app.openapi().get("paths", {}).items():
            rx = re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)))
            table.append((rx, {m.upper() for m in ops}))
        app.state.allow_table = table
    path = request.url.path
    methods = set().union(*(ms for rx, ms in table if rx.fullmatch(path)))
    return ", ".join(sorted(methods)) if methods else None
