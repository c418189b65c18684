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


def module_status(registry: Registry | None, spec: PluginSpec) -> dict[str, Any]:
    """What ``status.wasm`` says of a spec's module (never raises a domain error).

    With the registry the inspection is its runtime's (remembered, and a digest module
    is read from the uploaded blobs); without it (a bulk worker, which only prepares
    inline modules) the module is inspected here.
    """
    from hyper_registry.kinds.plugin.inspect import inspect
    from hyper_registry.kinds.plugin.rules import module_problems
    from hyper_registry.kinds.plugin.runtime import PluginRuntime
    from hyper_registry.kinds.plugin.source import module_bytes

    problems: list[Problem]
    try:
        if registry is not None:
            info = registry.extension(PluginRuntime).inspection(spec)
        else:
            info = inspect(module_bytes(spec.module, None))
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

    Where the registry is, the inspection ``module_is_valid`` just made is reused; a bulk
    worker (inline modules only) inspects the module again (small ones are remembered).
    """
    return {STATUS_KEY: module_status(ctx.registry, spec)}
