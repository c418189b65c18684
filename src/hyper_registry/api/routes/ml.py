"""Routes for models and datasets: lineage, comparison, schema evolution, quality, OpenLineage.

- ``POST /v1/lineage``: an OpenLineage event (RunEvent, DatasetEvent or JobEvent);
  ``GET /v1/lineage/runs/{runId}``: a run and its state history.
- ``GET /v1/lineage/{kind}/{ns}/{name}[/versions/{version}]?direction=&depth=``: the
  lineage graph (only through entries the token can see).
- ``POST /v1/models/compare``: compare model versions.
- ``GET /v1/models/{ns}/{name}/aliases``, ``PUT .../aliases/{alias}``: aliases and moves.
- ``POST /v1/models/{ns}/{name}/versions/{version}/files?name=``: upload a model file;
  ``GET .../files/{file}``: its bytes; ``POST .../import?format=mlflow|onnx|card``.
- ``GET /v1/datasets/{ns}/{name}/versions/{version}/schema/diff?against=``,
  ``POST /v1/datasets/{ns}/{name}/schema/check``, ``PUT .../versions/{version}/quality``.

See docs/ml.md.
"""

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from starlette.responses import FileResponse, Response

from hyper_registry.api import responses as r
from hyper_registry.api.auth import AuthenticatedRoute, principal_of, require, require_role
from hyper_registry.api.body import media_kind, parse, read_body, read_payload
from hyper_registry.api.params import (
    KindPath,
    NamePath,
    NamespacePath,
    VersionPath,
    entry_ref,
)
from hyper_registry.api.patterns import NAME_PATTERN
from hyper_registry.api.routes.common import get_entry
from hyper_registry.api.state import api_state
from hyper_registry.auth.tokens import Principal
from hyper_registry.core.errors import Invalid, NotFound, TooLarge
from hyper_registry.core.ref import Ref
from hyper_registry.core.registry import Registry
from hyper_registry.core.settings import Settings
from hyper_registry.graph.lineage import build_lineage_graph
from hyper_registry.kinds.dataset import openlineage
from hyper_registry.kinds.dataset.olbatch import OpenLineageBatcher
from hyper_registry.kinds.dataset.service import check_schema, schema_diff, set_quality
from hyper_registry.kinds.model.aliases import aliases_with_history, move_alias
from hyper_registry.kinds.model.compare import compare_models
from hyper_registry.kinds.model.files import file_of, max_bytes, read_chunks, upload_file
from hyper_registry.kinds.model.imports import import_into


def _json_body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """An OpenAPI request body: JSON (or YAML) of ``schema``."""
    content = {"schema": schema}
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": content, "application/yaml": content},
        }
    }


def _binary_body(description: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    }


_REFS = {
    "type": "array",
    "items": {"type": "string", "maxLength": 600},
    "minItems": 1,
    "maxItems": 100,
}
COMPARE_BODY = _json_body(
    {
        "type": "object",
        "required": ["refs"],
        "additionalProperties": False,
        "properties": {
            "refs": _REFS,
            "metrics": {"type": "array", "items": {"type": "string", "maxLength": 64}},
            "directions": {
                "type": "object",
                "additionalProperties": {"type": "string", "enum": ["higher", "lower"]},
            },
            "primary": {"type": "string", "maxLength": 64},
            "baseline": {"type": "string", "maxLength": 600},
        },
    },
    "the models to compare (references, aliases allowed)",
)
ALIAS_BODY = _json_body(
    {
        "type": "object",
        "required": ["version"],
        "properties": {"version": {"type": "string", "maxLength": 128}},
    },
    "the version the alias points at",
)
EVENT_BODY = _json_body(
    {"type": "object", "description": "an OpenLineage RunEvent, DatasetEvent or JobEvent"},
    "an OpenLineage event (gzip with Content-Encoding: gzip)",
)
CHECK_BODY = _json_body(
    {
        "type": "object",
        "required": ["schema"],
        "properties": {
            "schema": {"type": "object"},
            "compatibility": {
                "type": "string",
                "enum": [
                    "BACKWARD",
                    "BACKWARD_TRANSITIVE",
                    "FORWARD",
                    "FORWARD_TRANSITIVE",
                    "FULL",
                    "FULL_TRANSITIVE",
                    "NONE",
                ],
            },
        },
    },
    "a schema ({fields} or {format, definition}) and optionally the mode to check under",
)
_RATIOS = {
    "type": "object",
    "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
}
QUALITY_BODY = _json_body(
    {"type": "object", "properties": {"quality": _RATIOS, "thresholds": _RATIOS}},
    "quality measures and thresholds, each in 0..1",
)
WRITE_PROBLEMS = (400, 403, 404, 409, 413, 415)

MAX_EVENT_BYTES = 4 * 1024 * 1024
AliasPath = Annotated[
    str, PathParam(pattern=NAME_PATTERN, max_length=128, description="the alias (a name)")
]
FilePath = Annotated[str, PathParam(min_length=1, max_length=255, description="the file name")]
RunPath = Annotated[str, PathParam(pattern=r"^[0-9A-Fa-f-]{1,64}$", description="the run's UUID")]
MAX_IMPORT_BYTES = 64 * 1024 * 1024


def _gunzip(data: bytes, limit: int) -> bytes:
    """A gzip body, inflated to at most ``limit`` bytes (a gzip bomb is 413, not a crash)."""
    import zlib

    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error:
        raise Invalid.at((), "the body is not valid gzip", "bad-encoding") from None
    if len(out) > limit:
        raise TooLarge(f"the inflated body is over the limit of {limit} bytes")
    return out


def _visible_ref(principal: Principal, role: str, ref: Ref) -> None:
    require(principal, role, ref)  # type: ignore[arg-type]


def _ingest(registry: Registry, payload: Any, principal: Principal) -> dict[str, Any]:
    event = openlineage.parse_event(payload)
    for ns in openlineage.namespaces_of(event):
        principal.require("writer", ns)
    return registry.extension(OpenLineageBatcher).submit(event, actor=principal.name)


def _run(registry: Registry, run_id: str, principal: Principal) -> dict[str, Any]:
    found = openlineage.run_history(registry, run_id)
    if found is None or not principal.sees(found["namespace"]):
        raise NotFound(f"run {run_id} not found")
    return found


def _lineage(
    registry: Registry, ref: Ref, direction: str, depth: int | None, principal: Principal
) -> dict[str, Any]:
    root = get_entry(registry, ref).ref
    graph = build_lineage_graph(registry, root, direction, depth, namespaces=principal.visible)
    return graph.to_dict()


def _compare(registry: Registry, body: Any, principal: Principal) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise Invalid.at((), "the body must be an object with refs", "not-an-object")
    unknown = set(body) - {"refs", "metrics", "directions", "primary", "baseline"}
    if unknown:
        raise Invalid.at((sorted(unknown)[0],), "unknown field", "unknown-field")
    refs = body.get("refs")
    if not isinstance(refs, list) or not all(isinstance(x, str) for x in refs):
        raise Invalid.at(("refs",), "refs must be a list of model references", "bad-type")
    parsed = []
    for i, text in enumerate(refs):
        try:
            ref = Ref.parse(text)
        except Invalid as exc:
            raise Invalid.at(("refs", i), exc.message, "bad-ref") from None
        _visible_ref(principal, "reader", ref)
        parsed.append(ref)
    metrics = body.get("metrics")
    if metrics is not None and (
        not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics)
    ):
        raise Invalid.at(("metrics",), "metrics must be a list of metric names", "bad-type")
    directions = body.get("directions") or {}
    if not isinstance(directions, dict):
        raise Invalid.at(("directions",), "directions maps metric names to higher or lower")
    baseline = body.get("baseline")
    if baseline is not None:
        baseline = Ref.parse(str(baseline))
        _visible_ref(principal, "reader", baseline)
    primary = body.get("primary")
    try:
        return compare_models(
            registry,
            parsed,
            metrics,
            directions=directions,
            primary=str(primary) if primary is not None else None,
            baseline=baseline,
        )
    except NotFound as exc:
        raise NotFound(exc.message) from None


def router(settings: Settings) -> APIRouter:
    api = APIRouter(tags=["ml"], route_class=AuthenticatedRoute)
    max_depth = settings.max_graph_depth

    async def post_lineage(request: Request) -> Response:
        principal = principal_of(request)
        require_role(principal, "writer")
        state = api_state(request)
        limit = min(MAX_EVENT_BYTES, state.max_bulk_bytes)
        if request.headers.get("content-encoding", "").strip().lower() == "gzip":
            media_kind(request)
            payload = parse(_gunzip(await read_body(request, limit), limit), "json")
        else:
            payload = await read_payload(request, limit)
        out = await state.write(_ingest, state.registry, payload, principal)
        return r.json(out, status=201)

    for path, listed in (("/v1/lineage", True), ("/api/v1/lineage", False)):
        # /api/v1/lineage is the OpenLineage client's default endpoint (Marquez's path).
        api.add_api_route(
            path,
            post_lineage,
            methods=["POST"],
            status_code=201,
            include_in_schema=listed,
            responses={
                201: {"description": "what the event stored"},
                **r.problems(*WRITE_PROBLEMS),
            },
            openapi_extra=EVENT_BODY,
            summary="Ingest an OpenLineage event (RunEvent, DatasetEvent or JobEvent)",
        )

    @api.get(
        "/v1/lineage/runs/{run_id}",
        responses={200: {"description": "the run and its states"}, **r.problems(404)},
        summary="A run and its state history",
    )
    async def get_run(request: Request, run_id: RunPath) -> Response:
        principal = principal_of(request)
        require_role(principal, "reader")
        state = api_state(request)
        return r.json(await state.offload(_run, state.registry, run_id[:64], principal))

    Direction = Annotated[
        str, Query(pattern="^(upstream|downstream|both)$", description="which way to walk")
    ]
    Depth = Annotated[int | None, Query(ge=1, le=max_depth, description="levels to follow")]

    async def _graph(request: Request, ref: Ref, direction: str, depth: int | None) -> Response:
        principal = principal_of(request)
        _visible_ref(principal, "reader", ref)
        state = api_state(request)
        out = await state.offload(_lineage, state.registry, ref, direction, depth, principal)
        return r.json(out)

    @api.get(
        "/v1/lineage/{kind}/{namespace}/{name}",
        responses={200: {"description": "nodes and edges"}, **r.problems(404)},
        summary="Lineage graph of the latest version",
    )
    async def lineage_latest(
        request: Request,
        kind: KindPath,
        namespace: NamespacePath,
        name: NamePath,
        direction: Direction = "both",
        depth: Depth = None,
    ) -> Response:
        ref = entry_ref(api_state(request), kind, namespace, name)
        return await _graph(request, ref, direction, depth)

    @api.get(
        "/v1/lineage/{kind}/{namespace}/{name}/versions/{version}",
        responses={200: {"description": "nodes and edges"}, **r.problems(404)},
        summary="Lineage graph of one version (or alias)",
    )
    async def lineage_version(
        request: Request,
        kind: KindPath,
        namespace: NamespacePath,
        name: NamePath,
        version: VersionPath,
        direction: Direction = "both",
        depth: Depth = None,
    ) -> Response:
        ref = entry_ref(api_state(request), kind, namespace, name, version)
        return await _graph(request, ref, direction, depth)

    @api.post(
        "/v1/models/compare",
        responses={
            200: {"description": "metrics, winners, winner, pareto"},
            **r.problems(400, 404, 413, 415),
        },
        openapi_extra=COMPARE_BODY,
        summary="Compare model versions metric by metric",
    )
    async def compare(request: Request) -> Response:
        principal = principal_of(request)
        require_role(principal, "reader")
        state = api_state(request)
        body = await read_payload(request, 256 * 1024)
        return r.json(await state.offload(_compare, state.registry, body, principal))

    @api.get(
        "/v1/models/{namespace}/{name}/aliases",
        responses={200: {"description": "aliases and their moves"}, **r.problems(404)},
        summary="A model's aliases and their history",
    )
    async def aliases(request: Request, namespace: NamespacePath, name: NamePath) -> Response:
        principal = principal_of(request)
        ref = entry_ref(api_state(request), "model", namespace, name)
        _visible_ref(principal, "reader", ref)
        state = api_state(request)
        get_entry(state.registry, ref)
        return r.json(await state.offload(aliases_with_history, state.registry, ref))

    @api.put(
        "/v1/models/{namespace}/{name}/aliases/{alias}",
        responses={
            200: {"description": "the alias and its version"},
            **r.problems(*WRITE_PROBLEMS),
        },
        openapi_extra=ALIAS_BODY,
        summary="Point an alias at a version",
    )
    async def put_alias(
        request: Request, namespace: NamespacePath, name: NamePath, alias: AliasPath
    ) -> Response:
        principal = principal_of(request)
        body = await read_payload(request, 16 * 1024)
        if not isinstance(body, dict) or not isinstance(body.get("version"), str):
            raise Invalid.at(("version",), 'the body names the version: {"version": ...}')
        ref = entry_ref(api_state(request), "model", namespace, name, body["version"])
        _visible_ref(principal, "writer", ref)
        state = api_state(request)
        get_entry(state.registry, ref)
        out = await state.write(move_alias, state.registry, ref, alias, actor=principal.name)
        return r.json(out)

    @api.post(
        "/v1/models/{namespace}/{name}/versions/{version}/files",
        status_code=201,
        responses={201: {"description": "the stored file"}, **r.problems(*WRITE_PROBLEMS)},
        openapi_extra=_binary_body("the file's bytes"),
        summary="Upload a model file (stored by sha256, never deserialized)",
    )
    async def upload(
        request: Request,
        namespace: NamespacePath,
        name: NamePath,
        version: VersionPath,
        file_name: Annotated[str, Query(alias="name", min_length=1, max_length=255)],
        fmt: Annotated[str | None, Query(alias="format", max_length=32)] = None,
    ) -> Response:
        principal = principal_of(request)
        state = api_state(request)
        ref = entry_ref(state, "model", namespace, name, version)
        _visible_ref(principal, "writer", ref)
        get_entry(state.registry, ref)
        limit = max_bytes(state.registry)
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limit:
            raise TooLarge(f"the model file is {int(length)} bytes; the limit is {limit}")
        fd, tmp = tempfile.mkstemp(prefix=".incoming-")
        try:
            size = 0
            with os.fdopen(fd, "wb") as fh:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge(f"the model file is over the limit of {limit} bytes")
                    fh.write(chunk)
            out = await state.write(
                upload_file,
                state.registry,
                ref,
                read_chunks(Path(tmp)),
                name=file_name,
                fmt=fmt,
                actor=principal.name,
            )
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return r.json(out, status=201)

    @api.get(
        "/v1/models/{namespace}/{name}/versions/{version}/files/{file_name}",
        responses={200: {"description": "the file's bytes"}, **r.problems(404)},
        summary="Download a model file",
    )
    async def download(
        request: Request,
        namespace: NamespacePath,
        name: NamePath,
        version: VersionPath,
        file_name: FilePath,
    ) -> Response:
        principal = principal_of(request)
        state = api_state(request)
        ref = entry_ref(state, "model", namespace, name, version)
        _visible_ref(principal, "reader", ref)
        get_entry(state.registry, ref)
        record, path = await state.offload(file_of, state.registry, ref, file_name)
        return FileResponse(
            path,
            media_type="application/octet-stream",
            filename=str(record["name"]),
            headers={"Digest": "sha-256=" + str(record["sha256"])[7:]},
        )

    @api.post(
        "/v1/models/{namespace}/{name}/versions/{version}/import",
        responses={200: {"description": "what was imported"}, **r.problems(*WRITE_PROBLEMS)},
        openapi_extra=_binary_body("an MLmodel file, an ONNX model or a model card"),
        summary="Import an MLmodel file, an ONNX model or a model card into a model version",
    )
    async def import_(
        request: Request,
        namespace: NamespacePath,
        name: NamePath,
        version: VersionPath,
        fmt: Annotated[str, Query(alias="format", pattern="^(mlflow|onnx|card)$")],
    ) -> Response:
        principal = principal_of(request)
        state = api_state(request)
        ref = entry_ref(state, "model", namespace, name, version)
        _visible_ref(principal, "writer", ref)
        data = await read_body(request, min(MAX_IMPORT_BYTES, max_bytes(state.registry)))
        out = await state.write(import_into, state.registry, ref, fmt, data, actor=principal.name)
        return r.json(out)

    @api.get(
        "/v1/datasets/{namespace}/{name}/versions/{version}/schema/diff",
        responses={200: {"description": "the changes"}, **r.problems(404)},
        summary="The schema diff against another version (default: the one before)",
    )
    async def diff(
        request: Request,
        namespace: NamespacePath,
        name: NamePath,
        version: VersionPath,
        against: Annotated[str | None, Query(max_length=128)] = None,
    ) -> Response:
        principal = principal_of(request)
        state = api_state(request)
        ref = entry_ref(state, "dataset", namespace, name, version)
        _visible_ref(principal, "reader", ref)
        get_entry(state.registry, ref)
        return r.json(await state.offload(schema_diff, state.registry, ref, against))

    @api.post(
        "/v1/datasets/{namespace}/{name}/schema/check",
        responses={
            200: {"description": "compatible or not, with every reason"},
            **r.problems(400, 404, 413, 415),
        },
        openapi_extra=CHECK_BODY,
        summary="Check a schema against the dataset's versions without writing it",
    )
    async def check(request: Request, namespace: NamespacePath, name: NamePath) -> Response:
        principal = principal_of(request)
        state = api_state(request)
        ref = entry_ref(state, "dataset", namespace, name)
        _visible_ref(principal, "reader", ref)
        body = await read_payload(request, state.max_document_bytes)
        if not isinstance(body, dict):
            raise Invalid.at((), 'the body is {"schema": ..., "compatibility": ...}')
        out = await state.offload(
            check_schema, state.registry, ref, body.get("schema"), body.get("compatibility")
        )
        return r.json(out)

    @api.put(
        "/v1/datasets/{namespace}/{name}/versions/{version}/quality",
        responses={
            200: {"description": "the quality written and any alert"},
            **r.problems(*WRITE_PROBLEMS),
        },
        openapi_extra=QUALITY_BODY,
        summary="Record quality measures (and thresholds) of a dataset version",
    )
    async def quality(
        request: Request, namespace: NamespacePath, name: NamePath, version: VersionPath
    ) -> Response:
        principal = principal_of(request)
        state = api_state(request)
        ref = entry_ref(state, "dataset", namespace, name, version)
        _visible_ref(principal, "writer", ref)
        get_entry(state.registry, ref)
        body = await read_payload(request, 64 * 1024)
        if not isinstance(body, dict):
            raise Invalid.at((), 'the body is {"quality": {...}, "thresholds": {...}}')
        out = await state.write(
            set_quality,
            state.registry,
            ref,
            body.get("quality"),
            body.get("thresholds"),
            actor=principal.name,
        )
        return r.json(out)

    return api
