"""What a plugin's status says of its module: the inventory in ``status.wasm``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from hyper_registry.core.envelope import Document
from hyper_registry.core.errors import HyperRegistryError, Problem
from hyper_registry.core.kind import RuleContext
from hyper_registry.kinds.plugin.compile_cache import wasmtime_version
from hyper_registry.kinds.plugin.inspect import MalformedModule
from hyper_registry.kinds.plugin.permissions import check
from hyper_registry.kinds.plugin.spec import PluginSpec

if TYPE_CHECKING:
    from hyper_registry.core.registry import Registry

log = logging.getLogger(__name__)
STATUS_KEY = "wasm"


def module_status(registry: Registry, spec: PluginSpec) -> dict[str, Any]:
    """What ``status.wasm`` says of a spec's module (never raises a domain error)."""
    from hyper_registry.kinds.plugin.rules import module_problems
    from hyper_registry.kinds.plugin.runtime import PluginRuntime

    runtime = registry.extension(PluginRuntime)
    problems: list[Problem]
    try:
        info = runtime.inspection(spec)
    except MalformedModule as exc:
        problems = [exc.problem(("spec", "module"))]
    except HyperRegistryError as exc:  # the store is unavailable, ...
        problems = exc.problems or [Problem((), exc.message, exc.code)]
    else:
        perms = check(info.imports, spec.permissions)
        problems = module_problems(spec, info)
        return {
            **info.to_dict(),
            **perms.to_dict(),
            "runnable": perms.runnable and not problems,
            "problems": [p.to_dict() for p in problems],
            "inspectedWith": f"wasmtime {wasmtime_version()}",
        }
    return {"runnable": False, "problems": [p.to_dict() for p in problems]}


def status_of(spec: PluginSpec, doc: Document, ctx: RuleContext) -> dict[str, Any]:
    """``status.wasm``: the module's inventory, derived when the document is prepared.

    Plugins are prepared where the registry is (the kind reads uploaded modules from
    its blob store), so the inspection ``module_is_valid`` just made is reused here.
    """
    if ctx.registry is None:  # pragma: no cover - plugins are never prepared without one
        return {}
    return {STATUS_KEY: module_status(ctx.registry, spec)}
