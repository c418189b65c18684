"""Routes for service health checks, SLA availability and topology.

- ``GET /v1/services/topology``: services, ``calls`` edges and meshes the token can see
- ``GET /v1/services/{ns}/{name}[/versions/{v}]/health``: current state, availability
  over 1 h / 24 h / 7 d / 30 d against the SLA, recent results, dependents
- ``GET .../history``: stored results, newest first
- ``POST .../check``: probe the service now (writer role); the result is stored
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from hyper_registry.api import responses as r
from hyper_registry.api.auth import AuthenticatedRoute, principal_of, require
from hyper_registry.api.params import NamePath, NamespacePath, VersionPath, entry_ref
from hyper_registry.api.routes.common import get_entry, note_ref
from hyper_registry.api.state import api_state
from hyper_registry.auth.tokens import Principal
from hyper_registry.core.errors import Invalid
from hyper_registry.core.ref import Ref
from hyper_registry.core.registry import Registry
from hyper_registry.core.settings import Settings

Limit = Annotated[int, Query(ge=0, le=1000, description="how many recent results to include")]
Since = Annotated[
    float | None, Query(ge=0, le=31 * 86400, description="only results of the last N seconds")
]


def _service(registry: Registry, ref: Ref) -> Ref:
    entry = get_entry(registry, ref)
    if entry.kind != "service":  # pragma: no cover - the path fixes the kind
        raise Invalid.at(("path",), f"{entry.ref} is not a service")
    return entry.ref


def _report(registry: Registry, ref: Ref, limit: int, principal: Principal) -> dict[str, Any]:
    from hyper_registry.kinds.service.report import health_report

    return health_report(
        registry, _service(registry, ref), limit=limit, namespaces=principal.visible
    )


def _history(registry: Registry, ref: Ref, limit: int, since: float | None) -> dict[str, Any]:
    from hyper_registry.kinds.service import history

    exact = _service(registry, ref)
    cutoff = time.time() - since if since is not None else None
    items = history.recent(registry.store.engine, str(exact), limit=limit, since=cutoff)
    return {"ref": str(exact), "items": items}


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1/services", tags=["services"], route_class=AuthenticatedRoute)
    not_found = r.problems(404)

    @api.get("/topology", responses=r.problems(), summary="The service topology")
    async def topology(request: Request) -> Response:
        from hyper_registry.kinds.service.topology import topology as build

        principal = principal_of(request)
        principal.require("reader")
        state = api_state(request)
        return r.json(await state.offload(build, state.registry, principal.visible))

    def ref_of(request: Request, namespace: str, name: str, version: str | None) -> Ref:
        return entry_ref(api_state(request), "service", namespace, name, version)

    async def health(request: Request, ref: Ref, limit: int) -> Response:
        principal = principal_of(request)
        require(principal, "reader", ref)
        state = api_state(request)
        return r.json(await state.offload(_report, state.registry, ref, limit, principal))

    async def history_of(request: Request, ref: Ref, limit: int, since: float | None) -> Response:
        require(principal_of(request), "reader", ref)
        state = api_state(request)
        return r.json(await state.offload(_history, state.registry, ref, limit, since))

    async def check(request: Request, ref: Ref) -> Response:
        from hyper_registry.kinds.service.checker import check_now

        principal = principal_of(request)
        note_ref(request, ref)
        require(principal, "writer", ref)
        state = api_state(request)
        entry = await state.offload(get_entry, state.registry, ref)
        return r.json(await check_now(state.registry, entry, principal.name))

    @api.get("/{namespace}/{name}/health", responses=not_found, summary="Health of the latest")
    async def health_latest(
        request: Request, namespace: NamespacePath, name: NamePath, limit: Limit = 20
    ) -> Response:
        return await health(request, ref_of(request, namespace, name, None), limit)

    @api.get(
        "/{namespace}/{name}/versions/{version}/health",
        responses=not_found,
        summary="Health of one version",
    )
    async def health_version(
        request: Request,
        namespace: NamespacePath,
        name: NamePath,
        version: VersionPath,
        limit: Limit = 20,
    ) -> Response:
        return await health(request, ref_of(request, namespace, name, version), limit)

    @api.get("/{namespace}/{name}/history", responses=not_found, summary="Results, newest first")
    async def history_latest(
        request: Request,
        namespace: NamespacePath,
        name: NamePath,
        limit: Limit = 100,
        since: Since = None,
    ) -> Response:
        return await history_of(request, ref_of(request, namespace, name, None), limit, since)

    @api.get(
        "/{namespace}/{name}/versions/{version}/history",
        responses=not_found,
        summary="Results of one version, newest first",
    )
    async def history_version(
        request: Request,
        namespace: NamespacePath,
        name: NamePath,
        version: VersionPath,
        limit: Limit = 100,
        since: Since = None,
    ) -> Response:
        ref = ref_of(request, namespace, name, version)
        return await history_of(request, ref, limit, since)

    @api.post("/{namespace}/{name}/check", responses=not_found, summary="Check the latest now")
    async def check_latest(request: Request, namespace: NamespacePath, name: NamePath) -> Response:
        return await check(request, ref_of(request, namespace, name, None))

    @api.post(
        "/{namespace}/{name}/versions/{version}/check",
        responses=not_found,
        summary="Check one version now",
    )
    async def check_version(
        request: Request, namespace: NamespacePath, name: NamePath, version: VersionPath
    ) -> Response:
        return await check(request, ref_of(request, namespace, name, version))

    return api
