"""Routes for IaC templates: push, cost, diff, resources by type, deploys.

``POST /v1/infra/{ns}/{name}/versions/{version}`` takes a template file or archive as the
raw body (``.tgz``/``.tar``/``.zip`` by magic bytes, else one UTF-8 file named by
``?filename=``) and applies it as an infra entry, like ``hyper-registry infra push``.
``GET|POST .../cost`` estimates the monthly cost (POST: a usage file as a JSON body).
``GET /v1/infra/diff?from=REF&to=REF``; ``GET /v1/infra/resources?type=&provider=``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from hyper_registry.api import responses as r
from hyper_registry.api.auth import AuthenticatedRoute, principal_of, require
from hyper_registry.api.body import parse_json, read_body
from hyper_registry.api.params import (
    NamePath,
    NamespacePath,
    VersionPath,
    entry_ref,
    path_parameters,
)
from hyper_registry.api.patterns import NAME_PATTERN, VERSION_PATTERN
from hyper_registry.api.routes.common import get_entry, note_ref
from hyper_registry.api.state import api_state
from hyper_registry.core.errors import Invalid
from hyper_registry.core.ref import Ref
from hyper_registry.core.registry import Registry
from hyper_registry.core.settings import Settings
from hyper_registry.kinds.infra.archives import MAX_ARCHIVE_BYTES
from hyper_registry.kinds.infra.push import build_document, files_from_upload

MAX_USAGE_BYTES = 256 * 1024


def _service(registry: Registry) -> Any:
    from hyper_registry.kinds.infra import infra_service

    return infra_service(registry)


INFRA_REF_PATTERN = (
    f"^(infra:)?{NAME_PATTERN[1:-1]}/{NAME_PATTERN[1:-1]}(@{VERSION_PATTERN[1:-1]})?$"
)
"""An infra reference, with or without its ``infra:`` (documentation; parsing checks)."""


def _ref_param(text: str, where: str) -> Ref:
    try:
        ref = Ref.parse(text, default_kind="infra")
    except ValueError as exc:
        raise Invalid.at(("query", where), str(exc)[:300]) from None
    if ref.kind != "infra":
        raise Invalid.at(("query", where), f"{text[:200]!r} is not an infra reference")
    return ref


def _push(
    registry: Registry,
    data: bytes,
    filename: str | None,
    ref: Ref,
    template_type: str | None,
    title: str | None,
    owner: str | None,
    actor: str,
) -> tuple[dict[str, Any], str]:
    files = files_from_upload(data, filename)
    doc = build_document(
        files,
        name=f"{ref.namespace}/{ref.name}",
        version=str(ref.version),
        template_type=template_type,
        title=title,
        owner=owner,
    )
    result = registry.apply(doc, actor=actor)
    entry = registry.get(result.ref)  # read again: the hook has added the parse to the status
    return entry.to_dict(), result.outcome


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1/infra", tags=["infra"], route_class=AuthenticatedRoute)

    @api.post(
        "/{namespace}/{name}/versions/{version}",
        summary="Push a template file or archive (the API form of `infra push`)",
        responses={
            200: {"description": "updated or unchanged"},
            201: {"description": "created"},
            **r.problems(400, 403, 404, 409, 413, 422),
        },
    )
    async def push(
        request: Request,
        namespace: NamespacePath,
        name: NamePath,
        version: VersionPath,
        type: Annotated[
            str | None,
            Query(
                max_length=32,
                description="terraform, helm, cloudformation or ansible; detected when omitted",
            ),
        ] = None,
        filename: Annotated[
            str | None, Query(max_length=255, description="the file's name (a single file)")
        ] = None,
        title: Annotated[str | None, Query(max_length=1024)] = None,
        owner: Annotated[str | None, Query(max_length=253)] = None,
    ) -> Response:
        principal = principal_of(request)
        state = api_state(request)
        ref = entry_ref(state, "infra", namespace, name, version)
        note_ref(request, ref)
        require(principal, "writer", ref)
        data = await read_body(request, MAX_ARCHIVE_BYTES)
        entry, outcome = await state.write(
            _push, state.registry, data, filename, ref, type, title, owner, principal.name
        )
        return r.json(entry, status=201 if outcome == "created" else 200)

    async def _cost(request: Request, ref: Ref, usage: Any) -> Response:
        principal = principal_of(request)
        require(principal, "reader", ref)
        state = api_state(request)
        await state.offload(get_entry, state.registry, ref)
        result = await state.offload(
            lambda: _service(state.registry).estimate_cost(ref, usage=usage)
        )
        return r.json(result)

    async def _usage(request: Request) -> Any:
        body = await read_body(request, MAX_USAGE_BYTES)
        return parse_json(body) if body.strip() else None

    for path, with_version in (
        ("/{namespace}/{name}/cost", False),
        ("/{namespace}/{name}/versions/{version}/cost", True),
    ):

        def make(with_version: bool = with_version) -> Any:
            async def cost_get(request: Request) -> Response:
                p = request.path_params
                ref = entry_ref(
                    api_state(request),
                    "infra",
                    p["namespace"],
                    p["name"],
                    p.get("version") if with_version else None,
                )
                return await _cost(request, ref, None)

            async def cost_post(request: Request) -> Response:
                p = request.path_params
                ref = entry_ref(
                    api_state(request),
                    "infra",
                    p["namespace"],
                    p["name"],
                    p.get("version") if with_version else None,
                )
                return await _cost(request, ref, await _usage(request))

            return cost_get, cost_post

        get_fn, post_fn = make()
        names = ("namespace", "name", "version") if "{version}" in path else ("namespace", "name")
        api.add_api_route(
            path,
            get_fn,
            openapi_extra={"parameters": path_parameters(*names)},
            methods=["GET"],
            summary="Monthly cost estimate",
            responses=r.problems(404),
        )
        api.add_api_route(
            path,
            post_fn,
            openapi_extra={"parameters": path_parameters(*names)},
            methods=["POST"],
            summary="Monthly cost estimate with a usage file (JSON body)",
            responses=r.problems(400, 404, 422),
        )

    @api.get(
        "/diff",
        summary="Resources added and removed between two templates, and the cost delta",
        responses=r.problems(404, 422),
    )
    async def diff(
        request: Request,
        from_: Annotated[str, Query(alias="from", max_length=600, pattern=INFRA_REF_PATTERN)],
        to: Annotated[str, Query(max_length=600, pattern=INFRA_REF_PATTERN)],
    ) -> Response:
        principal = principal_of(request)
        a, b = _ref_param(from_, "from"), _ref_param(to, "to")
        require(principal, "reader", a)
        require(principal, "reader", b)
        state = api_state(request)
        result = await state.offload(lambda: _service(state.registry).diff(a, b))
        return r.json(result)

    @api.get(
        "/resources",
        summary="Templates holding resources of a type or provider (or any resources)",
        responses=r.problems(),
    )
    async def resources(
        request: Request,
        type: Annotated[str | None, Query(max_length=255)] = None,
        provider: Annotated[str | None, Query(max_length=63)] = None,
        allVersions: bool = False,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> Response:
        principal = principal_of(request)
        state = api_state(request)
        items = await state.offload(
            lambda: _service(state.registry).find(
                resource_type=type,
                provider=provider,
                namespaces=principal.visible,
                all_versions=allVersions,
                limit=limit,
            )
        )
        return r.json({"items": [e.to_dict() for e in items]})

    for path, with_version in (
        ("/{namespace}/{name}/deploys", False),
        ("/{namespace}/{name}/versions/{version}/deploys", True),
    ):

        def make_deploys(with_version: bool = with_version) -> Any:
            async def deploys(request: Request) -> Response:
                p = request.path_params
                st = api_state(request)
                ref = entry_ref(
                    st,
                    "infra",
                    p["namespace"],
                    p["name"],
                    p.get("version") if with_version else None,
                )
                principal = principal_of(request)
                require(principal, "reader", ref)
                await st.offload(get_entry, st.registry, ref)
                items = await st.offload(
                    lambda: _service(st.registry).deploys(ref, principal.visible)
                )
                return r.json({"ref": str(ref), "deploys": items})

            return deploys

        names = ("namespace", "name", "version") if "{version}" in path else ("namespace", "name")
        api.add_api_route(
            path,
            make_deploys(),
            openapi_extra={"parameters": path_parameters(*names)},
            methods=["GET"],
            summary="Services the template deploys (declared and inferred)",
            responses=r.problems(404),
        )
    return api
