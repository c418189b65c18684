"""Fixtures of the plugin tests: the hand-written modules and a pushed-plugin helper."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from hyper_registry import Ref, Registry
from hyper_registry.core.envelope import Entry
from hyper_registry.kinds.plugin.push import push
from hyper_registry.kinds.plugin.runtime import PluginRuntime

PLUGINS = Path(__file__).parent.parent.parent / "fixtures" / "plugins"

Push = Callable[..., Entry]


def module(name: str) -> bytes:
    """A fixture module's bytes (``name``, else ``name.wasm``, else ``name.wat``)."""
    if "." in name:
        return (PLUGINS / name).read_bytes()
    for suffix in (".wasm", ".wat"):
        path = PLUGINS / f"{name}{suffix}"
        if path.exists():
            return path.read_bytes()
    raise FileNotFoundError(name)


def pusher(registry: Registry) -> Push:
    def push_(
        name: str,
        permissions: Sequence[str] = (),
        *,
        sandboxing: str = "strict",
        version: str = "1.0.0",
        exports: Sequence[str] = (),
    ) -> Entry:
        return push(
            registry,
            module(name),
            Ref.parse(f"plugin:lab/{name}@{version}"),
            permissions=permissions,
            sandboxing=sandboxing,
            exports=exports,
        )

    return push_


@pytest.fixture
def runtime(sqlite_registry: Registry) -> PluginRuntime:
    return sqlite_registry.extension(PluginRuntime)


@pytest.fixture
def pushed(sqlite_registry: Registry) -> Push:
    return pusher(sqlite_registry)
