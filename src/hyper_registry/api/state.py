"""What the app keeps on ``app.state``: the registry and the API's own settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from hyper_registry.api.cache import TokenCache
from hyper_registry.core.envelope import Entry
from hyper_registry.core.registry import Registry

T = TypeVar("T")

DEFAULT_MAX_BULK_BYTES = 64 * 1024 * 1024
TOKEN_BODY_BYTES = 64 * 1024


@dataclass
class ApiState:
    """The registry and the knobs of the HTTP layer, built once by ``create_app``."""

    registry: Registry
    tokens: TokenCache
    inline_reads: bool
    """Run reads on the event loop (SQLite: a point lookup is cheaper than a thread hop)."""
    poll_interval: float = 0.5
    heartbeat_interval: float = 15.0

    @property
    def max_document_bytes(self) -> int:
        return self.registry.settings.max_document_bytes

    @property
    def max_bulk_bytes(self) -> int:
        value = getattr(self.registry.settings, "max_bulk_bytes", None)
        return int(value) if value else max(DEFAULT_MAX_BULK_BYTES, self.max_document_bytes)

    async def read(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run a read: inline on SQLite, in the thread pool on a networked database."""
        if self.inline_reads:
            return fn(*args, **kwargs)
        return await run_in_threadpool(fn, *args, **kwargs)

    async def offload(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run heavier reads (lists, graphs) in the thread pool, whatever the store."""
        return await run_in_threadpool(fn, *args, **kwargs)

    async def write(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run a write in the thread pool: writes wait for a (group) commit."""
        return await run_in_threadpool(fn, *args, **kwargs)

    async def create(self, document: Any, actor: str) -> Entry:
        """Create one entry through the group commit, awaited on the event loop (no thread
        is parked while the commit is pending); raises the refusal. Group commit must be on.
        """
        registry = self.registry
        item = await self.read(registry.prepare_create, document, actor=actor)
        pending = registry.commit_later(item)
        assert pending is not None, "group commit is off"
        result = await pending
        if result.entry is not None:
            return result.entry
        return await self.read(registry.get, result.ref)


def api_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state
