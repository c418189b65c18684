"""``/healthz`` (the process answers; no store access) and ``/readyz`` (the store is
reachable and its migrations are current). Both are public and reveal no entry."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from starlette.responses import Response

from hyper_registry.api import responses as r
from hyper_registry.api.errors import PROBLEM_MEDIA_TYPE
from hyper_registry.api.schemas import Health
from hyper_registry.api.state import api_state
from hyper_registry.core.errors import Unavailable

log = logging.getLogger("hyper_registry.api")

_HEALTHZ = r.json({"status": "ok"}).body


def router() -> APIRouter:
    api = APIRouter(tags=["health"])

    @api.get(
        "/healthz", responses={200: {"model": Health, "description": "alive"}}, summary="Liveness"
    )
    async def healthz() -> Response:
        return Response(_HEALTHZ, media_type="application/json")

    @api.get(
        "/readyz",
        responses={
            200: {"model": Health, "description": "ready"},
            503: {
                "description": "not ready",
                "content": {
                    PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDocument"}}
                },
            },
        },
        summary="Readiness",
    )
    async def readyz(request: Request) -> Response:
        state = api_state(request)
        health = await state.offload(state.registry.store.health)
        if not health.reachable:
            log.warning("not ready: the store is unreachable: %s", health.detail)
            raise Unavailable("the store is unreachable")
        if not health.migrations_current:
            log.warning("not ready: migrations at %s, head %s", health.revision, health.head)
            raise Unavailable("the store's migrations are not current")
        return r.json({"status": "ready"})

    return api
