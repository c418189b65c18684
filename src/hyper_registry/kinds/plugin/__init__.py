"""The ``plugin`` kind: WebAssembly plugins run in a sandbox."""

from __future__ import annotations

from hyper_registry.core.kind import KindSpec
from hyper_registry.kinds.plugin.rules import no_repeats
from hyper_registry.kinds.plugin.spec import PERMISSIONS, Module, PluginSpec

KIND = KindSpec(
    name="plugin",
    spec_model=PluginSpec,
    description="A WebAssembly plugin with declared permissions, run in a sandbox.",
    versioning="semver",
    rules=(no_repeats,),
)

__all__ = ["KIND", "PERMISSIONS", "Module", "PluginSpec"]
