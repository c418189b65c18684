"""The app factory: ``create_app(registry)`` builds the HTTP API over one Registry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import hyper_registry
from hyper_registry.api import openapi
from hyper_registry.api.cache import DEFAULT_TTL, TokenCache
from hyper_registry.api.errors import install_error_handlers
from hyper_registry.api.fastpath import EntryFastPath
from hyper_registry.api.routes import (
    apply,
    changes,
    entries,
    graph,
    health,
    infra,
    ingest,
    ml,
    plugins,
    query,
    security,
    services,
    tokens,
    topology,
)
from hyper_registry.api.state import ApiState
from hyper_registry.core.registry import Registry
from hyper_registry.web import mount_ui

DESCRIPTION = """\
One catalog and one relation graph for everything an organisation ships.

Every route except `/healthz`, `/readyz`, `/openapi.json` and `/docs` needs
`Authorization: Bearer <token>`. Errors are RFC 9457 problem documents
(`application/problem+json`). See docs/api.md.
"""


def create_app(
    registry: Registry,
    *,
    token_ttl: float = DEFAULT_TTL,
    poll_interval: float = 0.5,
    heartbeat_interval: float = 15.0,
    health_checks: bool = False,
    owns_registry: bool = False,
) -> FastAPI:
    """The HTTP API over ``registry`` (kept on ``app.state.registry``; no globals).

    ``token_ttl``: seconds a verified token is trusted before it is checked again (a
    revocation elsewhere takes effect within it). ``poll_interval`` and
    ``heartbeat_interval``: the change stream's polling and idle heartbeat, in seconds.
    ``health_checks``: run the service health checker for the app's lifetime
    (``serve`` passes ``settings.checker_enabled``; docs/services.md).
    ``owns_registry``: close ``registry`` when the app shuts down (a worker process of
    ``serve --workers N`` builds its own).
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        checker = None
        if health_checks:
            from hyper_registry.kinds.service.checker import HealthChecker

            checker = HealthChecker(registry)
            checker.start()
        try:
            yield
        finally:
            if checker is not None:
                checker.stop()
            if owns_registry:
                registry.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Hyper Registry",
        version=hyper_registry.__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        # Off unless asked for: looking up the OpenTelemetry providers on every request
        # costs about 5 % of a create's CPU even when none is configured.
        telemetry=(
            None
            if registry.settings.otel
            else {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}
        ),
    )
    app.state.registry = registry
    app.state.api = ApiState(
        registry=registry,
        tokens=TokenCache(registry.tokens, ttl=token_ttl),
        inline_reads=registry.settings.is_sqlite,
        poll_interval=poll_interval,
        heartbeat_interval=heartbeat_interval,
    )
    install_error_handlers(app)
    settings = registry.settings
    app.include_router(entries.router())  # first: reads of one entry are the hot path
    app.include_router(query.router(settings))
    app.include_router(health.router())
    app.include_router(apply.router())
    app.include_router(graph.router(settings))
    app.include_router(changes.router(settings))
    app.include_router(tokens.router())
    for domain in (security, ml, plugins, services, infra, ingest, topology):
        app.include_router(domain.router(settings))
    openapi.install(app, list(registry.kinds))
    mount_ui(app)  # last: the web UI at "/" never shadows an API route
    if not registry.settings.otel:
        # With telemetry on, every request goes through the routes (their operation spans).
        app.add_middleware(EntryFastPath, state=app.state.api)
    return app
