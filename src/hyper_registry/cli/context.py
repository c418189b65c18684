"""What every command shares: the global options, the backend they become, and output types.

Domain command groups (``cli/security.py``, ``cli/plugins.py``, ...) import from here,
never from ``cli/main.py``, so ``main`` can import them without a cycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from hyper_registry.cli.backend import Backend, LocalBackend, RemoteBackend
from hyper_registry.cli.output import fail
from hyper_registry.core.errors import HyperRegistryError
from hyper_registry.core.registry import Registry
from hyper_registry.core.settings import Settings

Output = Annotated[str, typer.Option("-o", "--output", help="table, json or yaml")]
GraphOutput = Annotated[str, typer.Option("-o", "--output", help="tree, json or yaml")]
Depth = Annotated[int | None, typer.Option("--depth", help="how many relations deep")]
Kinds = Annotated[list[str] | None, typer.Option("--kind", "-k", help="only report these kinds")]


class State:
    """Global options, turned into a backend on first use."""

    def __init__(
        self, data_dir: Path | None, database_url: str | None, server: str | None, token: str | None
    ) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.server = server
        self.token = token

    def settings(self) -> Settings:
        overrides: dict[str, Any] = {}
        if self.data_dir is not None:
            overrides["data_dir"] = self.data_dir
        if self.database_url:
            overrides["database_url"] = self.database_url
        return Settings(**overrides)

    def registry(self) -> Registry:
        return Registry.open(self.settings())

    def backend(self) -> Backend:
        if self.server:
            from hyper_registry.client import Client

            return RemoteBackend(Client(self.server, self.token))
        return LocalBackend(self.registry())


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


def check_format(fmt: str, allowed: tuple[str, ...] = ("table", "json", "yaml")) -> None:
    if fmt not in allowed:
        raise typer.BadParameter(f"{fmt!r} is not one of {', '.join(allowed)}", param_hint="-o")


def run(ctx: typer.Context, fn: Any, where: list[str] | None = None) -> Any:
    """Run ``fn(backend)``; a domain error becomes one readable line and its exit code."""
    try:
        backend = state(ctx).backend()
    except HyperRegistryError as exc:
        raise fail(exc) from None
    try:
        return fn(backend)
    except HyperRegistryError as exc:
        raise fail(exc, where) from None
    finally:
        backend.close()


def client(ctx: typer.Context) -> Any:
    """The HTTP client of ``--server``, or None when the CLI works on a local registry."""
    st = state(ctx)
    if not st.server:
        return None
    from hyper_registry.client import Client

    return Client(st.server, st.token)


def local(ctx: typer.Context, fn: Any) -> Any:
    """Run ``fn(registry)`` on the local registry; a domain error becomes one readable line."""
    try:
        registry = state(ctx).registry()
    except HyperRegistryError as exc:
        raise fail(exc) from None
    try:
        return fn(registry)
    except HyperRegistryError as exc:
        raise fail(exc) from None
    finally:
        registry.close()


def remote_call(remote: Any, method: str, path: str, **kwargs: Any) -> Any:
    """One request through ``remote`` (a Client), then close it; errors as in :func:`local`."""
    try:
        return remote.request(method, path, **kwargs)
    except HyperRegistryError as exc:
        raise fail(exc) from None
    finally:
        remote.close()
