"""``GET /v1/graph/{kind}/{ns}/{name}[/versions/{version}]/{dependencies|dependents|impact}``.

The walk only passes through entries the token can see, so a hidden entry never
appears, not even inside another hit's path.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from hyper_registry.api import responses as r
from hyper_registry.api.auth import AuthenticatedRoute, principal_of, require
from hyper_registry.api.params import (
    KindPath,
    NamePath,
    NamespacePath,
    VersionPath,
    entry_ref,
)
from hyper_registry.api.routes.common import get_entry
from hyper_registry.api.schemas import GraphResult
from hyper_registry.api.state import api_state
from hyper_registry.auth.tokens import Principal
from hyper_registry.core.errors import Invalid
from hyper_registry.core.ref import Ref
from hyper_registry.core.registry import Registry
from hyper_registry.core.settings import Settings
from hyper_registry.store.base import GraphHit

Mode = Literal["dependencies", "dependents", "impact"]
RESULT_KEY = {"dependencies": "dependencies", "dependents": "dependents", "impact": "affected"}


def _walk(
    registry: Registry,
    ref: Ref,
    mode: Mode,
    depth: int | None,
    kinds: list[str] | None,
    principal: Principal,
) -> tuple[Ref, list[GraphHit]]:
    root = get_entry(registry, ref).ref
    walk = {
        "dependencies": registry.dependencies,
        "dependents": registry.dependents,
        "impact": registry.impact,
    }[mode]
    return root, walk(root, depth=depth, kinds=kinds, namespaces=principal.visible)


def router(settings: Settings) -> APIRouter:
    api = APIRouter(
        prefix="/v1/graph",
        tags=["graph"],
        route_class=AuthenticatedRoute,
    )
    max_depth = settings.max_graph_depth
    responses = {
        200: {
            "model": GraphResult,
            "description": "the root and its hits (key: dependencies, dependents or affected)",
        },
        **r.problems(404),
    }

    async def _graph(
        request: Request,
        principal: Principal,
        ref: Ref,
        mode: Mode,
        depth: int | None,
        kinds: list[str] | None,
    ) -> Response:
        require(principal, "reader", ref)
        for i, k in enumerate(kinds or ()):
            if len(k) > 63:
                raise Invalid.at(("query", "kind", i), "not a kind", "unknown-kind")
        state = api_state(request)
        root, hits = await state.offload(
            _walk, state.registry, ref, mode, depth, kinds or None, principal
        )
        return r.json({"root": str(root), RESULT_KEY[mode]: [h.to_dict() for h in hits]})

    Depth = Annotated[
        int | None,
        Query(
            ge=1,
            le=max_depth,
            description=f"levels to follow (default "
            f"{settings.default_graph_depth}, at most {max_depth})",
        ),
    ]
    Kinds = Annotated[
        list[str] | None, Query(alias="kind", max_length=16, description="only hits of these kinds")
    ]

    @api.get(
        "/{kind}/{namespace}/{name}/{mode}",
        responses=responses,
        summary="Walk the graph from the latest version",
    )
    async def graph_latest(
        request: Request,
        kind: KindPath,
        namespace: NamespacePath,
        name: NamePath,
        mode: Mode,
        depth: Depth = None,
        kinds: Kinds = None,
    ) -> Response:
        principal = principal_of(request)
        ref = entry_ref(api_state(request), kind, namespace, name)
        return await _graph(request, principal, ref, mode, depth, kinds)

    @api.get(
        "/{kind}/{namespace}/{name}/versions/{version}/{mode}",
        responses=responses,
        summary="Walk the graph from one version",
    )
    async def graph_version(
        request: Request,
        kind: KindPath,
        namespace: NamespacePath,
        name: NamePath,
        version: VersionPath,
        mode: Mode,
        depth: Depth = None,
        kinds: Kinds = None,
    ) -> Response:
        principal = principal_of(request)
        ref = entry_ref(api_state(request), kind, namespace, name, version)
        return await _graph(request, principal, ref, mode, depth, kinds)

    return api
