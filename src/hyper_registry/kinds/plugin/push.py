"""Push a module: check it, store its bytes, precompile it, register the plugin by digest.

Order matters: everything that can refuse the module (size, format, validation,
permissions, exports, the document itself) runs before a byte is stored, so a refused
push leaves nothing behind. The bytes go in ``plugin_modules`` (content-addressed),
the compiled form in the compile cache, and the document through the one write
pipeline, naming the module by ``module.digest``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from hyper_registry.core.envelope import Entry
from hyper_registry.core.errors import AlreadyExists, Invalid, NotFound, TooLarge
from hyper_registry.core.ref import Ref
from hyper_registry.core.validation import problems_from
from hyper_registry.core.versioning import semver_problem
from hyper_registry.kinds.plugin.inspect import (
    ELF_MAGIC,
    WASM_MAGIC,
    Inspection,
    MalformedModule,
    inspect,
    wat_to_wasm,
)
from hyper_registry.kinds.plugin.rules import module_problems
from hyper_registry.kinds.plugin.spec import PluginSpec

if TYPE_CHECKING:
    from hyper_registry.core.registry import Registry


def to_binary(raw: bytes) -> bytes:
    """The binary module of an upload: a ``.wasm`` as is, a ``.wat`` (UTF-8 text) compiled."""
    if raw.startswith(WASM_MAGIC) or raw.startswith(ELF_MAGIC):
        return raw
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid.at(
            ("module",),
            "the upload is neither a WebAssembly binary (\\0asm) nor WebAssembly text (UTF-8)",
            "bad-wasm",
        ) from None
    if "\x00" in text or not text.strip():
        raise Invalid.at(("module",), "the text module is empty or holds NUL bytes", "bad-wat")
    try:
        return wat_to_wasm(text)
    except MalformedModule as exc:
        raise Invalid(exc.message, problems=[exc.problem(("module",))]) from None


def inspect_upload(raw: bytes, limit: int) -> Inspection:
    """Size-check, convert and inspect an uploaded module (nothing stored)."""
    if len(raw) > limit:
        raise TooLarge(f"the module is {len(raw)} bytes; the limit is {limit} bytes")
    data = to_binary(raw)
    if len(data) > limit:
        raise TooLarge(f"the compiled module is {len(data)} bytes; the limit is {limit} bytes")
    try:
        return inspect(data)
    except MalformedModule as exc:
        raise Invalid(exc.message, problems=[exc.problem(("module",))]) from None


def push(
    registry: Registry,
    raw: bytes,
    ref: Ref,
    *,
    permissions: Sequence[str] = (),
    sandboxing: str = "strict",
    exports: Sequence[str] = (),
    metadata: Mapping[str, Any] | None = None,
    actor: str = "local",
) -> Entry:
    """Register ``ref`` (a plugin version) with the uploaded module; returns the entry."""
    from hyper_registry.kinds.plugin.runtime import PluginRuntime

    if ref.kind != "plugin" or not ref.version:
        raise Invalid.at(("ref",), f"{ref}: name a plugin version (plugin:ns/name@1.0.0)")
    limit = registry.settings.plugin_max_module_bytes
    data = to_binary(raw) if len(raw) <= limit else raw
    info = inspect_upload(raw, limit)
    spec_doc: dict[str, Any] = {
        "runtime": "wasm",
        "module": {"digest": info.digest},
        "permissions": list(permissions),
        "sandboxing": sandboxing,
        "exports": list(exports),
    }
    try:
        spec = PluginSpec.model_validate(spec_doc)
    except ValidationError as exc:
        raise Invalid("the plugin is not valid", problems=problems_from(exc, ("spec",))) from None
    problems = module_problems(spec, info)
    if problems:
        raise Invalid("the module does not match the plugin's declaration", problems=problems)
    document = {
        "apiVersion": "hyper-registry/v1",
        "kind": "plugin",
        "metadata": {
            **dict(metadata or {}),
            "namespace": ref.namespace,
            "name": ref.name,
            "version": ref.version,
        },
        "spec": spec_doc,
    }
    doc = registry.pipeline.parse(document)
    why = semver_problem(doc.metadata.version)
    if why:
        raise Invalid.at(("metadata", "version"), why, "bad-version")
    try:
        registry.get(doc.ref)
    except NotFound:
        pass
    else:
        raise AlreadyExists(f"{doc.ref} already exists; push a new version")
    runtime = registry.extension(PluginRuntime)
    runtime.blobs.put(info.digest, data, actor=actor)
    runtime.compiled(data, info.digest)
    registry.register(document, actor=actor)
    return registry.get(ref)
