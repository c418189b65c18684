"""The bytes of a plugin's module, whichever way the spec gives it (text, base64, digest)."""

from __future__ import annotations

from hyper_registry.kinds.plugin.inspect import MalformedModule, digest_of, wat_to_wasm
from hyper_registry.kinds.plugin.spec import Module
from hyper_registry.kinds.plugin.tables import ModuleBlobs


def module_bytes(module: Module, blobs: ModuleBlobs | None) -> bytes:
    """The binary module: ``wat`` compiled, ``wasm`` decoded, or ``digest`` read from the blobs."""
    if module.wat is not None:
        return wat_to_wasm(module.wat)
    binary = module.binary()
    if binary is not None:
        return binary
    assert module.digest is not None
    data = blobs.get(module.digest) if blobs is not None else None
    if data is None:
        raise MalformedModule(
            "module-missing",
            f"no module with digest {module.digest} was uploaded; "
            "push it first (hyper-registry plugin push or POST /v1/plugins/...)",
        )
    if digest_of(data) != module.digest:  # pragma: no cover - stored by its digest
        raise MalformedModule("module-missing", f"the stored module {module.digest} is damaged")
    return data


def source_field(module: Module) -> str:
    """Which spec field holds the module (for error locations)."""
    if module.wat is not None:
        return "wat"
    if module.wasm is not None:
        return "wasm"
    return "digest"
