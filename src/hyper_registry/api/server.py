"""Run the API under uvicorn (one worker: the Registry lives in this process)."""

from __future__ import annotations

from typing import Any

from hyper_registry.api.app import create_app
from hyper_registry.core.registry import Registry


def run(
    registry: Registry, host: str = "127.0.0.1", port: int = 8080, **uvicorn_options: Any
) -> None:
    """Serve ``registry`` over HTTP until interrupted (blocks)."""
    import uvicorn

    options: dict[str, Any] = {"log_level": "info", "proxy_headers": False}
    options.update(uvicorn_options)
    uvicorn.run(create_app(registry), host=host, port=port, workers=1, **options)
