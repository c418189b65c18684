"""The plugin kind: module forms, permissions, sandboxing and exports."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from hyper_registry.kinds.plugin import PluginSpec
from hyper_registry.kinds.plugin.spec import MAX_MODULE_BYTES

from .kindcheck import check, only

WAT = '(module (func (export "run") (result i32) i32.const 1))'
# The smallest valid module: the magic and version 1.
EMPTY_WASM = base64.b64encode(b"\0asm\x01\0\0\0").decode()
DIGEST = "sha256:" + "ab" * 32


def spec(**fields: Any) -> dict[str, Any]:
    return {"module": {"wat": WAT}, **fields}


@pytest.mark.parametrize(
    "module",
    [
        {"wat": WAT},
        {"wasm": EMPTY_WASM},
        {"wasm": EMPTY_WASM[:6] + "\n" + EMPTY_WASM[6:]},
        {"digest": DIGEST},
    ],
)
def test_module_forms_accepted(module: dict[str, str]) -> None:
    assert check("plugin", {"module": module}) == []


def test_defaults() -> None:
    plugin = PluginSpec.model_validate(spec())
    assert (plugin.runtime, plugin.sandboxing, plugin.permissions, plugin.exports) == (
        "wasm",
        "strict",
        [],
        [],
    )
    assert plugin.module.binary() is None
    assert (
        PluginSpec.model_validate({"module": {"wasm": EMPTY_WASM}}).module.binary()
        == b"\0asm\x01\0\0\0"
    )


@pytest.mark.parametrize(
    ("module", "got"),
    [
        ({}, "none"),
        ({"wat": WAT, "digest": DIGEST}, "wat and digest"),
        ({"wat": WAT, "wasm": EMPTY_WASM, "digest": DIGEST}, "wat and wasm and digest"),
    ],
)
def test_module_needs_exactly_one_form(module: dict[str, str], got: str) -> None:
    assert only(check("plugin", {"module": module})) == (
        "spec.module",
        f"module needs exactly one of wat, wasm or digest; got {got}",
    )


def test_module_is_required() -> None:
    assert only(check("plugin", {})) == ("spec.module", "Field required")


@pytest.mark.parametrize(
    ("wasm", "message"),
    [
        ("not base64!", "wasm is not valid base64"),
        (
            base64.b64encode(b"\x7fELF\x02\x01\x01\x00").decode(),
            "wasm is not a WebAssembly binary: it does not start with the magic bytes \\0asm",
        ),
        (
            base64.b64encode(b"\0asm").decode(),
            "wasm is not a WebAssembly binary: it does not start with the magic bytes \\0asm",
        ),
        ("  ", "wasm must not be empty"),
    ],
)
def test_wasm_must_be_a_base64_module(wasm: str, message: str) -> None:
    assert only(check("plugin", {"module": {"wasm": wasm}})) == ("spec.module.wasm", message)


def test_inline_modules_are_size_limited() -> None:
    big = base64.b64encode(b"\0asm\x01\0\0\0" + b"\0" * MAX_MODULE_BYTES).decode()
    path, message = only(check("plugin", {"module": {"wasm": big}}))
    assert path == "spec.module.wasm"
    assert (
        message == f"wasm is over {MAX_MODULE_BYTES} bytes; upload the module and give its digest"
    )
    path, message = only(check("plugin", {"module": {"wat": "(module)" + " " * MAX_MODULE_BYTES}}))
    assert path == "spec.module.wat"
    assert message.startswith("wat is 8388616 bytes; the limit is 8388608 bytes")


def test_wat_must_not_be_blank() -> None:
    assert only(check("plugin", {"module": {"wat": "\n  "}})) == (
        "spec.module.wat",
        "wat must not be empty",
    )


@pytest.mark.parametrize("digest", ["sha256:abc", "md5:" + "ab" * 32, "sha256:" + "AB" * 32])
def test_digest_shape(digest: str) -> None:
    assert only(check("plugin", {"module": {"digest": digest}})) == (
        "spec.module.digest",
        f"digest {digest!r} must be 'sha256:' followed by 64 lowercase hex digits",
    )


def test_runtime_is_wasm() -> None:
    assert only(check("plugin", spec(runtime="jvm"))) == (
        "spec.runtime",
        "runtime 'jvm' is not one of: wasm",
    )


def test_permissions_accepted() -> None:
    every = ["fs:read", "fs:write", "network:http", "network:https", "env", "crypto", "db"]
    assert check("plugin", spec(permissions=every)) == []


def test_unknown_permission_refused() -> None:
    assert only(check("plugin", spec(permissions=["env", "fs:exec"]))) == (
        "spec.permissions[1]",
        "permission 'fs:exec' is not one of: fs:read, fs:write, network:http, network:https, "
        "env, crypto, db",
    )


def test_repeated_permission_refused() -> None:
    assert only(check("plugin", spec(permissions=["env", "db", "env"]))) == (
        "spec.permissions[2]",
        "permission 'env' is listed twice (first at spec.permissions[0])",
    )


@pytest.mark.parametrize("mode", ["strict", "relaxed", "none"])
def test_sandboxing_modes(mode: str) -> None:
    assert check("plugin", spec(sandboxing=mode)) == []


def test_unknown_sandboxing_refused() -> None:
    assert only(check("plugin", spec(sandboxing="loose"))) == (
        "spec.sandboxing",
        "sandboxing 'loose' is not one of: strict, relaxed, none",
    )


def test_exports() -> None:
    assert check("plugin", spec(exports=["run"])) == []
    assert only(check("plugin", spec(exports=["run", "run"]))) == (
        "spec.exports[1]",
        "export 'run' is listed twice (first at spec.exports[0])",
    )
    assert only(check("plugin", spec(exports=[""])))[0] == "spec.exports[0]"


def test_unknown_fields_refused() -> None:
    assert only(check("plugin", spec(memory=64))) == (
        "spec.memory",
        "Extra inputs are not permitted",
    )
    assert only(check("plugin", {"module": {"wat": WAT, "path": "x.wat"}}))[0] == "spec.module.path"
