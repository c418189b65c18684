"""Validation and inventory of modules: real corpus modules, hand-written ones, broken bytes."""

from __future__ import annotations

import pytest

from hyper_registry.kinds.plugin.inspect import (
    Import,
    MalformedModule,
    check_binary,
    digest_of,
    inspect,
    wat_to_wasm,
)
from hyper_registry.kinds.plugin.permissions import CAPABILITIES, check

from .conftest import module


def test_corpus_module_inventory() -> None:
    info = inspect(module("simple"))
    assert [i.to_dict() for i in info.imports] == [
        {"module": "my_namespace", "name": "imported_func", "kind": "func"}
    ]
    assert [e.to_dict() for e in info.exports] == [{"name": "exported_func", "kind": "func"}]
    assert info.memories == []
    assert info.digest == digest_of(module("simple"))


def test_emscripten_module_lists_imported_memory_and_globals() -> None:
    info = inspect(module("change"))
    kinds = {i.kind for i in info.imports}
    assert {"func", "global", "memory", "table"} <= kinds
    assert [m.to_dict() for m in info.memories] == [
        {"minPages": 256, "maxPages": 256, "imported": True, "shared": False, "memory64": False}
    ]
    assert "_change" in info.export_names()


def test_empty_module() -> None:
    info = inspect(module("empty"))
    assert (info.imports, info.exports, info.memories, info.size) == ([], [], [], 8)


def test_wat_text_and_its_binary_agree() -> None:
    assert inspect(wat_to_wasm(module("simple.wat").decode())).export_names() == {"exported_func"}


def test_own_memory_and_wasi_imports() -> None:
    info = inspect(wat_to_wasm(module("hello").decode()))
    assert {str(i) for i in info.imports} == {
        "wasi_snapshot_preview1.fd_write",
        "wasi_snapshot_preview1.fd_read",
        "wasi_snapshot_preview1.args_sizes_get",
        "wasi_snapshot_preview1.proc_exit",
    }
    assert [m.to_dict()["minPages"] for m in info.memories] == [1]
    assert not info.memories[0].imported


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "bad-wasm"),
        (b"\0as", "bad-wasm"),
        (b"MZ\x90\x00" + b"\0" * 60, "bad-wasm"),
        (b"\x7fELF\x02\x01\x01" + b"\0" * 57, "precompiled-refused"),
        (b"\0asm\x0d\x00\x01\x00", "unsupported-wasm"),
    ],
)
def test_not_a_module(data: bytes, code: str) -> None:
    with pytest.raises(MalformedModule) as caught:
        check_binary(data)
    assert caught.value.code == code


def test_truncated_module_is_refused_with_wasmtime_reason() -> None:
    data = wat_to_wasm(module("add").decode())
    with pytest.raises(MalformedModule) as caught:
        inspect(data[: len(data) - 5])
    assert caught.value.code == "bad-wasm"
    assert "not valid WebAssembly" in caught.value.message


def test_invalid_body_is_refused() -> None:
    # well-formed text, but the function returns nothing while declaring an i32 result
    with pytest.raises(MalformedModule) as caught:
        inspect(wat_to_wasm('(module (func (export "f") (result i32)))'))
    assert caught.value.code == "bad-wasm"
    assert "type mismatch" in caught.value.message


def test_wat_syntax_error_names_line_and_column() -> None:
    with pytest.raises(MalformedModule) as caught:
        wat_to_wasm('(module\n  (func (export "f")\n    i32.bogus))')
    assert caught.value.code == "bad-wat"
    assert "(line 3, column 5)" in caught.value.message
    assert "\n" not in caught.value.message


def wasi(*names: str) -> list[Import]:
    return [Import("wasi_snapshot_preview1", n, "func") for n in names]


def test_permission_mapping() -> None:
    assert check(wasi("fd_write", "proc_exit", "random_get"), []).runnable
    fs = check(wasi("path_open", "fd_read"), [])
    assert [str(i) for i in fs.missing["fs-read"]] == ["wasi_snapshot_preview1.path_open"]
    assert check(wasi("path_open"), ["fs:read"]).runnable
    assert check(wasi("path_open"), ["fs:write"]).runnable
    assert "fs-write" in check(wasi("path_unlink_file"), ["fs:read"]).missing
    assert check(wasi("sock_send"), ["network:https"]).runnable
    assert "network" in check(wasi("sock_open"), []).missing
    assert "env" in check(wasi("environ_get", "environ_sizes_get"), ["fs:read"]).missing


def test_every_capability_problem_lists_its_imports() -> None:
    result = check(wasi("path_open", "environ_get", "sock_recv"), [])
    messages = [p.message for p in result.problems()]
    assert len(messages) == 3
    assert any("path_open" in m and "fs:read or fs:write" in m for m in messages)
    assert any("environ_get" in m and "needs env" in m for m in messages)
    assert any("sock_recv" in m and "network:http or network:https" in m for m in messages)
    assert {p.code for p in result.problems()} == {"permission-mismatch"}


def test_unknown_wasi_function_and_host_imports() -> None:
    result = check([*wasi("fd_teleport"), Import("env", "abort", "func")], [])
    assert [p.code for p in result.problems()] == ["unknown-import"]
    assert [str(i) for i in result.host_imports] == ["env.abort"]
    assert not result.runnable


def test_unused_permissions_reported_not_refused() -> None:
    result = check(wasi("fd_write"), ["env", "crypto"])
    assert result.runnable
    assert result.unused == ["crypto", "env"]


def test_the_table_covers_wasi_preview1() -> None:
    names = {fn for _, fns in CAPABILITIES.values() for fn in fns}
    assert len(names) == 46  # every function of WASI preview 1
