"""What a WebAssembly module is: validated by wasmtime, then its imports, exports and memories read.

Validation is wasmtime's (``Module.validate``: the full WebAssembly validator, no code
generation). The inventory is read from the binary's import, memory and export
sections by the small reader below, so registering a plugin never compiles it; the
reader runs only on bytes wasmtime has already validated.

Refused before validation: a wasmtime precompiled artifact (an ELF file: only the
registry's own compiled output is ever loaded, never a user's) and a component-model
binary (the runtime runs core modules with WASI preview 1).
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from hyper_registry.core.errors import Problem

WASM_MAGIC = b"\0asm"
CORE_VERSION = b"\x01\0\0\0"
ELF_MAGIC = b"\x7fELF"
WASM_PAGE = 65536

_IMPORT_KINDS = {0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}
_EXPORT_KINDS = _IMPORT_KINDS


@dataclass(frozen=True)
class Import:
    module: str
    name: str
    kind: str

    def to_dict(self) -> dict[str, str]:
        return {"module": self.module, "name": self.name, "kind": self.kind}

    def __str__(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class Export:
    name: str
    kind: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "kind": self.kind}


@dataclass(frozen=True)
class MemoryInfo:
    minimum: int
    maximum: int | None
    imported: bool
    shared: bool = False
    memory64: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "minPages": self.minimum,
            "maxPages": self.maximum,
            "imported": self.imported,
            "shared": self.shared,
            "memory64": self.memory64,
        }


@dataclass
class Inspection:
    """The inventory of a valid module."""

    digest: str
    size: int
    imports: list[Import] = field(default_factory=list)
    exports: list[Export] = field(default_factory=list)
    memories: list[MemoryInfo] = field(default_factory=list)

    def export_names(self) -> set[str]:
        return {e.name for e in self.exports}

    def to_dict(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "size": self.size,
            "imports": [i.to_dict() for i in self.imports],
            "exports": [e.to_dict() for e in self.exports],
            "memories": [m.to_dict() for m in self.memories],
        }


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class MalformedModule(ValueError):
    """The bytes are not a module the runtime accepts; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def problem(self, loc: tuple[str | int, ...]) -> Problem:
        return Problem(loc, self.message, self.code)


SMALL_MODULE = 64 * 1024
"""Modules (and texts) up to this size have their compilation and inspection remembered:
bulk loads repeat the same small modules, and wasmtime's validation dominates their cost."""


def wat_to_wasm(text: str) -> bytes:
    """Compile the text format; a syntax error names its line and column."""
    if len(text) <= SMALL_MODULE:
        return _wat_to_wasm_cached(text)
    return _wat_to_wasm(text)


@lru_cache(maxsize=256)
def _wat_to_wasm_cached(text: str) -> bytes:
    return _wat_to_wasm(text)


def _wat_to_wasm(text: str) -> bytes:
    import wasmtime

    try:
        return bytes(wasmtime.wat2wasm(text))
    except wasmtime.WasmtimeError as exc:
        raise MalformedModule("bad-wat", _wat_message(str(exc))) from None


def _wat_message(raw: str) -> str:
    """wat2wasm's error without the echoed source: "expected `(` (line 1, column 1)"."""
    lines = [ln.strip() for ln in raw.strip().splitlines() if ln.strip()]
    head = lines[0] if lines else "not valid WebAssembly text"
    where = ""
    for ln in lines[1:]:
        if ln.startswith("-->"):
            parts = ln.rsplit(":", 2)
            if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                where = f" (line {parts[1]}, column {parts[2]})"
            break
    return f"the text format does not compile: {head}{where}"[:500]


def check_binary(data: bytes) -> None:
    """Refuse what is not a valid core WebAssembly module, with a reason."""
    import wasmtime

    if data.startswith(ELF_MAGIC):
        raise MalformedModule(
            "precompiled-refused",
            "this is a precompiled (native) artifact; upload the .wasm or .wat module: "
            "the registry compiles modules itself and never loads precompiled bytes",
        )
    if len(data) < 8 or not data.startswith(WASM_MAGIC):
        raise MalformedModule(
            "bad-wasm", "not a WebAssembly module: it does not start with the magic bytes \\0asm"
        )
    if data[4:8] != CORE_VERSION:
        raise MalformedModule(
            "unsupported-wasm",
            "this is a WebAssembly component or an unknown binary version; "
            "only core modules (version 1) are supported",
        )
    try:
        wasmtime.Module.validate(wasmtime.Engine(), data)
    except wasmtime.WasmtimeError as exc:
        first = (str(exc).strip().splitlines() or ["invalid module"])[0]
        detail = str(exc).strip().splitlines()
        reason = next((ln.strip() for ln in detail[1:] if ln.strip()), "")
        if reason.lower().startswith("caused by"):
            reason = next(
                (ln.strip() for ln in detail[detail.index(reason) + 1 :] if ln.strip()), ""
            )
        text = f"{first}: {reason}" if reason and reason not in first else first
        raise MalformedModule(
            "bad-wasm", f"the module is not valid WebAssembly: {text}"[:500]
        ) from None


def inspect(data: bytes) -> Inspection:
    """Validate ``data`` and list its imports, exports and memories."""
    if len(data) <= SMALL_MODULE:
        return copy.deepcopy(_inspect_cached(data))
    return _inspect(data)


@lru_cache(maxsize=256)
def _inspect_cached(data: bytes) -> Inspection:
    return _inspect(data)


def _inspect(data: bytes) -> Inspection:
    check_binary(data)
    out = Inspection(digest=digest_of(data), size=len(data))
    try:
        _read_sections(_Reader(data, 8), out)
    except (IndexError, ValueError, UnicodeDecodeError):  # pragma: no cover - validated first
        raise MalformedModule("bad-wasm", "the module's sections cannot be read") from None
    return out


class _Reader:
    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def done(self) -> bool:
        return self.pos >= self.end

    def byte(self) -> int:
        if self.pos >= self.end:
            raise IndexError("unexpected end of section")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def uleb(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise ValueError("LEB128 too long")

    def sleb(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if b & 0x40:
                    result -= 1 << shift
                return result
            if shift > 70:
                raise ValueError("LEB128 too long")

    def name(self) -> str:
        n = self.uleb()
        if self.pos + n > self.end:
            raise IndexError("name runs past the section")
        raw = self.data[self.pos : self.pos + n]
        self.pos += n
        return raw.decode("utf-8")

    def skip_to(self, end: int) -> None:
        self.pos = end


def _read_sections(r: _Reader, out: Inspection) -> None:
    while not r.done():
        section = r.byte()
        size = r.uleb()
        end = r.pos + size
        body = _Reader(r.data, r.pos, end)
        if section == 2:
            _imports(body, out)
        elif section == 5:
            for _ in range(body.uleb()):
                out.memories.append(_memtype(body, imported=False))
        elif section == 7:
            for _ in range(body.uleb()):
                name = body.name()
                kind = _EXPORT_KINDS.get(body.byte(), "unknown")
                body.uleb()
                out.exports.append(Export(name, kind))
        r.skip_to(end)


def _imports(r: _Reader, out: Inspection) -> None:
    for _ in range(r.uleb()):
        module, name = r.name(), r.name()
        tag = r.byte()
        kind = _IMPORT_KINDS.get(tag, "unknown")
        if tag == 0:
            r.uleb()
        elif tag == 1:
            _reftype(r)
            _limits(r)
        elif tag == 2:
            out.memories.append(_memtype(r, imported=True))
        elif tag == 3:
            _valtype(r)
            r.byte()
        elif tag == 4:
            r.byte()
            r.uleb()
        else:  # pragma: no cover - the validator knows every import kind
            raise ValueError(f"unknown import kind {tag}")
        out.imports.append(Import(module, name, kind))


def _limits(r: _Reader) -> tuple[int, int | None, int]:
    flags = r.byte()
    minimum = r.uleb()
    maximum = r.uleb() if flags & 0x01 else None
    if flags & 0x08:  # custom page size (log2)
        r.uleb()
    return minimum, maximum, flags


def _memtype(r: _Reader, *, imported: bool) -> MemoryInfo:
    minimum, maximum, flags = _limits(r)
    return MemoryInfo(minimum, maximum, imported, bool(flags & 0x02), bool(flags & 0x04))


def _reftype(r: _Reader) -> None:
    b = r.byte()
    if b in (0x63, 0x64):
        r.sleb()


def _valtype(r: _Reader) -> None:
    b = r.byte()
    if b in (0x63, 0x64):
        r.sleb()
