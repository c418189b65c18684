"""The ``plugin`` kind: WebAssembly plugins, validated, inspected and run in a sandbox."""

from __future__ import annotations

from hyper_registry.core.kind import KindSpec
from hyper_registry.kinds.plugin import tables as _tables  # noqa: F401  (declares the table)
from hyper_registry.kinds.plugin.hooks import status_of
from hyper_registry.kinds.plugin.rules import module_by_digest, module_is_valid, no_repeats
from hyper_registry.kinds.plugin.spec import PERMISSIONS, Module, PluginSpec

KIND = KindSpec(
    name="plugin",
    spec_model=PluginSpec,
    description="A WebAssembly plugin with declared permissions, run in a sandbox.",
    versioning="semver",
    rules=(no_repeats, module_is_valid),
    # module_is_valid reads an uploaded module by its digest from the registry's blobs;
    # an inline module (wat, wasm) is checked anywhere, in a bulk worker too.
    reads_registry=module_by_digest,
    status_of=status_of,
)

__all__ = ["KIND", "PERMISSIONS", "Module", "PluginSpec"]
