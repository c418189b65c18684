"""Plugin rules beyond the spec model: the module is valid, matches its permissions and exports.

Every registration path (``apply -f``, ``PUT /v1/entries``, ``plugin push``, bulk and
stream ingest) goes through these rules, so an inline ``wat``/``wasm`` module is
compiled to a binary, validated by wasmtime and inspected before anything is written.
A ``digest`` module is read from the uploaded modules when the pipeline hands the rule
the registry (kinds with ``reads_registry``); otherwise it is checked after the commit
and the result lands in ``status.wasm``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hyper_registry.core.envelope import Document
from hyper_registry.core.errors import Problem
from hyper_registry.core.kind import RuleContext
from hyper_registry.kinds.common import duplicates
from hyper_registry.kinds.plugin.inspect import Inspection, MalformedModule, inspect
from hyper_registry.kinds.plugin.permissions import check
from hyper_registry.kinds.plugin.source import module_bytes, source_field
from hyper_registry.kinds.plugin.spec import MAX_MODULE_BYTES, PluginSpec


def no_repeats(spec: PluginSpec, doc: Document, ctx: RuleContext) -> Iterator[Problem]:
    """A permission or an export is listed once."""
    yield from duplicates(spec.permissions, ("spec", "permissions"), "permission")
    yield from duplicates(spec.exports, ("spec", "exports"), "export")


def module_by_digest(doc: Mapping[str, Any]) -> bool:
    """Whether a raw plugin document's module is an uploaded blob (read from the registry).

    Anything but an inline ``wat`` or ``wasm`` module (a digest, a malformed spec) says
    yes: the registry's own process prepares it and reports what is wrong.
    """
    spec = doc.get("spec")
    module = spec.get("module") if isinstance(spec, Mapping) else None
    return not (
        isinstance(module, Mapping)
        and "digest" not in module
        and ("wat" in module or "wasm" in module)
    )


def module_problems(spec: PluginSpec, info: Inspection) -> list[Problem]:
    """Imports against the declared permissions, and the required exports."""
    problems = check(info.imports, spec.permissions).problems()
    names = info.export_names()
    have = ", ".join(sorted(names)) or "nothing"
    for i, name in enumerate(spec.exports):
        if name not in names:
            problems.append(
                Problem(
                    ("spec", "exports", i),
                    f"the module has no export {name!r}; it exports: {have}",
                    "missing-export",
                )
            )
    return problems


def module_is_valid(spec: PluginSpec, doc: Document, ctx: RuleContext) -> Iterator[Problem]:
    """The module compiles, validates, fits the size limit and matches permissions and exports."""
    registry = getattr(ctx, "registry", None)
    loc: tuple[str | int, ...] = ("spec", "module", source_field(spec.module))
    try:
        if registry is not None:
            from hyper_registry.kinds.plugin.runtime import PluginRuntime

            info = registry.extension(PluginRuntime).inspection(spec)
        elif spec.module.digest is not None:
            return  # no store to read it from here: checked after the commit (status.wasm)
        else:
            data = module_bytes(spec.module, None)
            limit = (
                ctx.settings.plugin_max_module_bytes
                if ctx.settings is not None
                else MAX_MODULE_BYTES
            )
            if len(data) > limit:
                yield Problem(
                    loc, f"the module is {len(data)} bytes; the limit is {limit} bytes", "too-large"
                )
                return
            info = inspect(data)
    except MalformedModule as exc:
        yield exc.problem(loc)
        return
    yield from module_problems(spec, info)
