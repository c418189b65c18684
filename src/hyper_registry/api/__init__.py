"""The HTTP API: ``create_app(registry)`` returns a FastAPI app over one Registry.

    >>> from hyper_registry import Registry, Settings
    >>> from hyper_registry.api import create_app
    >>> app = create_app(Registry.open(Settings()))   # doctest: +SKIP

``hyper_registry.api.server.run(registry)`` serves it with uvicorn. FastAPI is an
optional dependency (``pip install 'hyper-registry[server]'``).
"""

from hyper_registry.api.app import create_app

__all__ = ["create_app"]
