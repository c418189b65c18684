"""The plugin kind's spec: a WebAssembly module, its permissions and its sandbox."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, Field, model_validator

from hyper_registry.core.envelope import Strict
from hyper_registry.kinds.common import Digest, choice, invalid, max_bytes

MAX_MODULE_BYTES = 8 * 1024 * 1024
"""The largest inline module (``wat`` text or decoded ``wasm``); bigger modules are uploaded."""

WASM_MAGIC = b"\0asm"

Permission = Literal["fs:read", "fs:write", "network:http", "network:https", "env", "crypto", "db"]
PERMISSIONS: tuple[str, ...] = get_args(Permission)

Sandboxing = Literal["strict", "relaxed", "none"]


def decode_wasm(text: str) -> bytes:
    """The bytes of a base64 ``wasm`` field (whitespace and line breaks are ignored)."""
    return base64.b64decode("".join(text.split()), validate=True)


def _check_wasm(value: str) -> str:
    compact = "".join(value.split())
    if not compact:
        raise invalid("bad-wasm", "wasm must not be empty")
    if len(compact) > (MAX_MODULE_BYTES + 2) // 3 * 4:
        raise invalid(
            "too-large",
            f"wasm is over {MAX_MODULE_BYTES} bytes; upload the module and give its digest",
        )
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise invalid("bad-wasm", "wasm is not valid base64") from None
    if len(data) < 8 or not data.startswith(WASM_MAGIC):
        raise invalid(
            "bad-wasm",
            "wasm is not a WebAssembly binary: it does not start with the magic bytes \\0asm",
        )
    return value


def _check_wat(value: str) -> str:
    if not value.strip():
        raise invalid("bad-wat", "wat must not be empty")
    if "\x00" in value:
        raise invalid("bad-wat", "wat must not contain NUL characters")
    return value


class Module(Strict):
    """The module: exactly one of its text, its binary (base64) or an uploaded blob's digest."""

    wat: Annotated[str, AfterValidator(_check_wat), max_bytes("wat", MAX_MODULE_BYTES)] | None = (
        None
    )
    wasm: Annotated[str, AfterValidator(_check_wasm)] | None = None
    digest: Digest | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Module:
        given = [n for n in ("wat", "wasm", "digest") if getattr(self, n) is not None]
        if len(given) != 1:
            got = " and ".join(given) if given else "none"
            raise invalid(
                "bad-module", f"module needs exactly one of wat, wasm or digest; got {got}"
            )
        return self

    def binary(self) -> bytes | None:
        """The decoded ``wasm`` bytes, or None when the module is given as text or digest."""
        return decode_wasm(self.wasm) if self.wasm is not None else None


ExportName = Annotated[str, Field(min_length=1, max_length=256)]


class PluginSpec(Strict):
    runtime: Annotated[Literal["wasm"], choice("runtime", Literal["wasm"])] = "wasm"
    module: Module
    permissions: list[Annotated[Permission, choice("permission", Permission)]] = Field(
        default_factory=list, description="what the module may do; checked against its imports"
    )
    sandboxing: Annotated[Sandboxing, choice("sandboxing", Sandboxing)] = "strict"
    exports: list[ExportName] = Field(
        default_factory=list,
        max_length=1024,
        description="names of the exports the module must have",
    )
