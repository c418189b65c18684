"""Run the API under uvicorn: one process, or ``workers`` processes on one shared store.

With one worker the Registry given to :func:`run` serves every request. With several,
each worker process builds its own Registry from the same settings (passed to the
workers through ``HYPER_REGISTRY_*`` environment variables) over the same database.
On SQLite, which takes one writer at a time, one writer process commits the groups of
every worker together (``core/writer_process.py``); PostgreSQL takes each worker's
commits concurrently.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from fastapi import FastAPI

from hyper_registry.api import supervisor
from hyper_registry.api.app import create_app
from hyper_registry.core.errors import HyperRegistryError, Unavailable
from hyper_registry.core.registry import Registry
from hyper_registry.core.settings import Settings

ENV_PREFIX = "HYPER_REGISTRY_"
WORKER_APP = "hyper_registry.api.server:worker_app"
log = logging.getLogger("hyper_registry.api")


def run(
    registry: Registry,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    workers: int = 1,
    **uvicorn_options: Any,
) -> None:
    """Serve ``registry`` over HTTP until interrupted (blocks).

    ``workers > 1`` starts that many processes (on Linux each with its own listening socket,
    see :mod:`hyper_registry.api.supervisor`; elsewhere uvicorn's supervisor); ``registry``
    is closed first and each worker opens its own on the same settings.
    """
    import uvicorn

    options: dict[str, Any] = {"log_level": "info", "proxy_headers": False}
    options.update(uvicorn_options)
    if workers > 1:
        settings = registry.settings
        registry.close()
        writer = None
        if settings.is_sqlite and settings.group_commit and settings.writer_socket is None:
            # One writer process commits the groups of every worker: see
            # hyper_registry.core.writer_process.
            from hyper_registry.core.writer_process import start_writer

            try:
                writer = start_writer(settings)
            except (OSError, HyperRegistryError) as exc:
                log.warning("no writer process (%s): each worker commits its own writes", exc)
            else:
                settings = settings.model_copy(update={"writer_socket": writer.path})
        os.environ.update(settings_environment(settings))
        try:
            if supervisor.supported():
                status = supervisor.Supervisor(WORKER_APP, host, port, workers, options).run()
                if status:
                    raise Unavailable("the server stopped: a worker process failed (see the log)")
            else:
                uvicorn.run(
                    WORKER_APP, factory=True, host=host, port=port, workers=workers, **options
                )
        finally:
            if writer is not None:
                writer.stop()
        return
    app = create_app(registry, health_checks=registry.settings.checker_enabled)
    uvicorn.run(app, host=host, port=port, workers=1, **options)


def settings_environment(settings: Settings) -> dict[str, str]:
    """``settings`` as the ``HYPER_REGISTRY_*`` variables that rebuild it in another process."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump(mode="json").items():
        if value is None:
            continue
        text = value if isinstance(value, str) else json.dumps(value)
        env[ENV_PREFIX + name.upper()] = text
    return env


def worker_app() -> FastAPI:
    """The app of one worker process of ``serve --workers N`` (a uvicorn app factory)."""
    settings = Settings()
    registry = Registry(settings)  # the parent has migrated the store already
    return create_app(registry, health_checks=settings.checker_enabled, owns_registry=True)
