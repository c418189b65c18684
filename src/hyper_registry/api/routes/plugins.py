"""Routes for WASM plugins: push a module, run an export in the sandbox.

- ``POST /v1/plugins/{ns}/{name}/{version}``: the body is the module itself (``.wasm``
  bytes or ``.wat`` text); ``permission``, ``export`` (repeatable), ``sandboxing``,
  ``owner``, ``title`` and ``description`` are query parameters. 201 with the entry
  (its ``status.wasm`` holds the inventory). Needs the writer role.
- ``POST /v1/plugins/{ns}/{name}/{version}/run`` (or ``.../{name}/run`` for the latest
  version): a JSON body ``{"export": ..., "args": [...], "stdin": ...}``; 200 with the
  run's results and captured output, or a 422 problem whose code says why the run
  failed (``plugin-trap``, ``plugin-fuel``, ``plugin-timeout``, ``plugin-memory``,
  ``plugin-stack``, ``plugin-not-runnable``). Running executes code on the server, so it
  needs the writer role too.
"""

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import Response

from hyper_registry.api import responses as r
from hyper_registry.api.auth import AuthenticatedRoute, principal_of, require
from hyper_registry.api.body import read_body, read_payload
from hyper_registry.api.errors import ApiProblem
from hyper_registry.api.params import NamePath, NamespacePath, VersionPath, entry_ref
from hyper_registry.api.state import api_state
from hyper_registry.core.errors import Invalid
from hyper_registry.core.ref import Ref
from hyper_registry.core.settings import Settings
from hyper_registry.core.validation import problems_from

MODULE_TYPES = frozenset(
    {"application/wasm", "application/octet-stream", "text/plain", "text/x-wat", "text/wat"}
)
MAX_ARGS = 256


class RunBody(BaseModel):
    """What to run: an export, its arguments, and optional stdin (text or base64)."""

    model_config = ConfigDict(extra="forbid")

    export: str = Field(min_length=1, max_length=256)
    args: list[Annotated[str, Field(max_length=4096)] | int | float] = Field(
        default_factory=list, max_length=MAX_ARGS
    )
    stdin: str | None = None
    stdinBase64: str | None = None

    def stdin_bytes(self) -> bytes | None:
        if self.stdin is not None and self.stdinBase64 is not None:
            raise Invalid.at(("stdin",), "give stdin or stdinBase64, not both")
        if self.stdinBase64 is not None:
            try:
                return base64.b64decode(self.stdinBase64, validate=True)
            except (binascii.Error, ValueError):
                raise Invalid.at(("stdinBase64",), "not valid base64", "bad-base64") from None
        return self.stdin.encode() if self.stdin is not None else None


def _run_body(data: Any) -> RunBody:
    try:
        return RunBody.model_validate(data)
    except ValidationError as exc:
        raise Invalid("the run request is not valid", problems=problems_from(exc)) from None


def _module_media(request: Request) -> None:
    raw = request.headers.get("content-type", "")
    media = raw.split(";", 1)[0].strip().lower()
    if media not in MODULE_TYPES:
        shown = f"{media!r}" if media else "no Content-Type"
        accepted = ", ".join(sorted(MODULE_TYPES))
        raise ApiProblem(
            415,
            f"{shown} is not accepted here; send the module as application/wasm "
            f"(binary) or text/plain (text format)",
            headers={"Accept": accepted},
        )


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1/plugins", tags=["plugins"], route_class=AuthenticatedRoute)
    run_responses = {
        200: {"description": "the run's results, exit code and captured output"},
        **r.problems(400, 403, 404, 413, 415),
    }
    run_body = {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": RunBody.model_json_schema()}},
        }
    }

    async def _run(request: Request, ref: Ref) -> Response:
        from hyper_registry.kinds.plugin.runtime import PluginRuntime

        principal = principal_of(request)
        require(principal, "writer", ref)
        state = api_state(request)
        body = _run_body(await read_payload(request, state.max_document_bytes))
        stdin = body.stdin_bytes()
        runtime = state.registry.extension(PluginRuntime)
        args = [str(a) for a in body.args]
        result = await state.offload(runtime.run, ref, body.export, args, stdin)
        return r.json(result)

    @api.post(
        "/{namespace}/{name}/run",
        responses=run_responses,
        openapi_extra=run_body,
        summary="Run an export of the latest version in its sandbox",
    )
    async def run_latest(request: Request, namespace: NamespacePath, name: NamePath) -> Response:
        return await _run(request, entry_ref(api_state(request), "plugin", namespace, name))

    @api.post(
        "/{namespace}/{name}/{version}/run",
        responses=run_responses,
        openapi_extra=run_body,
        summary="Run an export of one version in its sandbox",
    )
    async def run_version(
        request: Request, namespace: NamespacePath, name: NamePath, version: VersionPath
    ) -> Response:
        ref = entry_ref(api_state(request), "plugin", namespace, name, version)
        return await _run(request, ref)

    @api.post(
        "/{namespace}/{name}/{version}",
        status_code=201,
        responses={
            201: {"description": "the plugin entry, with its module's inventory in status.wasm"},
            **r.problems(400, 403, 404, 409, 413, 415),
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/wasm": {"schema": {"type": "string", "format": "binary"}},
                    "text/plain": {"schema": {"type": "string"}},
                },
            }
        },
        summary="Push a module (.wasm or .wat) as a new plugin version",
    )
    async def push_module(
        request: Request,
        namespace: NamespacePath,
        name: NamePath,
        version: VersionPath,
        permission: Annotated[list[str] | None, Query(max_length=16)] = None,
        export: Annotated[list[str] | None, Query(max_length=1024)] = None,
        sandboxing: Annotated[str, Query(max_length=16)] = "strict",
        owner: Annotated[str | None, Query(max_length=253)] = None,
        title: Annotated[str | None, Query(max_length=1024)] = None,
        description: Annotated[str | None, Query(max_length=2048)] = None,
    ) -> Response:
        from hyper_registry.kinds.plugin.push import push

        state = api_state(request)
        ref = entry_ref(state, "plugin", namespace, name, version)
        principal = principal_of(request)
        require(principal, "writer", ref)
        _module_media(request)
        raw = await read_body(request, state.registry.settings.plugin_max_module_bytes)
        metadata = {
            k: v
            for k, v in (("owner", owner), ("title", title), ("description", description))
            if v is not None
        }
        entry = await state.write(
            push,
            state.registry,
            raw,
            ref,
            permissions=permission or [],
            sandboxing=sandboxing,
            exports=export or [],
            metadata=metadata,
            actor=principal.name,
        )
        return r.entry_response(entry, 201, location=True)

    return api
