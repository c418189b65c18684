"""Registration checks the module through the kind's rules, on every path, on both backends."""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from hyper_registry import AlreadyExists, BatchRefused, Invalid, NotFound, Ref, Registry, TooLarge
from hyper_registry.kinds.plugin.inspect import digest_of, wat_to_wasm
from hyper_registry.kinds.plugin.push import push
from hyper_registry.kinds.plugin.runtime import PluginRuntime

from .conftest import PLUGINS, module, pusher

EXAMPLE = yaml.safe_load((PLUGINS / "example-plugin.yaml").read_text())


def plugin(name: str, spec: dict[str, Any], version: str = "1.0.0") -> dict[str, Any]:
    return {
        "apiVersion": "hyper-registry/v1",
        "kind": "plugin",
        "metadata": {"namespace": "lab", "name": name, "version": version},
        "spec": spec,
    }


def codes(exc: Invalid) -> list[str]:
    return [p.code for p in exc.problems]


def test_example_applies_unchanged_and_is_inspected(registry: Registry) -> None:
    assert registry.apply(copy.deepcopy(EXAMPLE)).outcome == "created"
    status = registry.get("plugin:edge/header-scrubber@0.4.1").status["wasm"]
    assert status["exports"] == [{"name": "scrub", "kind": "func"}]
    assert (status["imports"], status["runnable"], status["problems"]) == ([], True, [])
    assert status["digest"].startswith("sha256:")
    out = registry.extension(PluginRuntime).run("plugin:edge/header-scrubber", "scrub", ["41"])
    assert out["results"] == [40]


def test_inline_module_missing_a_permission_is_refused(registry: Registry) -> None:
    doc = plugin("files", {"module": {"wat": module("files.wat").decode()}})
    with pytest.raises(Invalid) as caught:
        registry.apply(doc)
    assert codes(caught.value) == ["permission-mismatch"]
    assert caught.value.problems[0].path == "spec.permissions"
    assert "wasi_snapshot_preview1.path_open" in caught.value.problems[0].message
    with pytest.raises(NotFound):
        registry.get("plugin:lab/files@1.0.0")
    doc["spec"]["permissions"] = ["fs:read"]
    assert registry.apply(doc).outcome == "created"


def test_inline_binary_module_is_checked_too(registry: Registry) -> None:
    wasm = base64.b64encode(wat_to_wasm(module("env.wat").decode())).decode()
    with pytest.raises(Invalid) as caught:
        registry.apply(plugin("env", {"module": {"wasm": wasm}}))
    assert "environ_get" in str(caught.value.problems[0].message)
    registry.apply(plugin("env", {"module": {"wasm": wasm}, "permissions": ["env"]}))


def test_required_exports_must_exist(registry: Registry) -> None:
    doc = plugin("add", {"module": {"wat": module("add.wat").decode()}, "exports": ["add", "mul"]})
    with pytest.raises(Invalid) as caught:
        registry.apply(doc)
    assert codes(caught.value) == ["missing-export"]
    assert caught.value.problems[0].path == "spec.exports[1]"
    assert "no export 'mul'; it exports: add, half, noop" in caught.value.problems[0].message


def test_wat_syntax_error_is_located(registry: Registry) -> None:
    with pytest.raises(Invalid) as caught:
        registry.apply(
            plugin("bad", {"module": {"wat": '(module\n (func (export "f") i32.nope))'}})
        )
    problem = caught.value.problems[0]
    assert (problem.path, problem.code) == ("spec.module.wat", "bad-wat")
    assert "line 2" in problem.message


def test_truncated_wasm_is_refused(registry: Registry) -> None:
    data = wat_to_wasm(module("add.wat").decode())[:-4]
    with pytest.raises(Invalid) as caught:
        registry.apply(plugin("cut", {"module": {"wasm": base64.b64encode(data).decode()}}))
    assert (caught.value.problems[0].path, caught.value.problems[0].code) == (
        "spec.module.wasm",
        "bad-wasm",
    )


def test_unknown_digest_is_refused(registry: Registry) -> None:
    with pytest.raises(Invalid) as caught:
        registry.apply(plugin("ghost", {"module": {"digest": "sha256:" + "ab" * 32}}))
    assert codes(caught.value) == ["module-missing"]


def test_bulk_apply_is_atomic(registry: Registry) -> None:
    good = plugin("add", {"module": {"wat": module("add.wat").decode()}})
    bad = plugin("socket", {"module": {"wat": module("socket.wat").decode()}})
    with pytest.raises(BatchRefused) as caught:
        registry.apply_many([good, bad])
    assert [p.loc[0] for p in caught.value.problems] == [1]
    with pytest.raises(NotFound):
        registry.get("plugin:lab/add@1.0.0")


def test_push_stores_by_digest_and_apply_can_reuse_it(registry: Registry) -> None:
    entry = pusher(registry)("hello", exports=["_start"])
    digest = entry.spec["module"]["digest"]
    assert entry.status["wasm"]["digest"] == digest
    assert entry.status["wasm"]["capabilities"] == ["stdio"]
    doc = plugin("hello-again", {"module": {"digest": digest}, "exports": ["argc"]})
    assert registry.apply(doc).outcome == "created"
    runtime = registry.extension(PluginRuntime)
    assert runtime.run("plugin:lab/hello-again", "argc", ["x"])["results"] == [2]
    doc2 = plugin("hello-env", {"module": {"digest": digest}, "exports": ["nope"]})
    with pytest.raises(Invalid):
        registry.apply(doc2)


def test_push_refusals_write_nothing(registry: Registry) -> None:
    push = pusher(registry)
    with pytest.raises(Invalid) as caught:
        push("files")
    assert codes(caught.value) == ["permission-mismatch"]
    with pytest.raises(Invalid) as caught:
        push("add", ["fs:exec"])
    assert caught.value.problems[0].path == "spec.permissions[0]"
    with pytest.raises(Invalid):
        push("add", version="1.0")
    files = digest_of(wat_to_wasm(module("files.wat").decode()))
    assert registry.extension(PluginRuntime).blobs.get(files) is None
    with pytest.raises(NotFound):
        registry.get("plugin:lab/files@1.0.0")


def test_push_same_version_twice(registry: Registry) -> None:
    push = pusher(registry)
    push("add")
    with pytest.raises(AlreadyExists):
        push("add")
    assert push("add", version="1.0.1").metadata.version == "1.0.1"


def test_push_refuses_precompiled_and_oversized(registry: Registry, tmp_path: Path) -> None:
    elf = b"\x7fELF\x02\x01\x01" + b"\0" * 100
    with pytest.raises(Invalid) as caught:
        push(registry, elf, Ref.parse("plugin:lab/native@1.0.0"))
    assert codes(caught.value) == ["precompiled-refused"]
    small = registry.settings.model_copy(update={"plugin_max_module_bytes": 1024})
    big = b"\0asm\x01\0\0\0" + b"\0" * 2000
    with (
        Registry.open(small.model_copy(update={"data_dir": tmp_path / "x"})) as other,
        pytest.raises(TooLarge),
    ):
        push(other, big, Ref.parse("plugin:lab/big@1.0.0"))


def test_push_accepts_text_and_binary_of_corpus_modules(registry: Registry) -> None:
    push(registry, module("empty.wasm"), Ref.parse("plugin:lab/empty@1.0.0"))
    entry = push(
        registry,
        module("change.wasm"),
        Ref.parse("plugin:lab/change@1.0.0"),
        exports=["_change"],
    )
    assert entry.status["wasm"]["runnable"] is False
    assert "env.abort" in entry.status["wasm"]["hostImports"]


def test_status_is_merged_and_follows_the_module(registry: Registry) -> None:
    doc = copy.deepcopy(EXAMPLE)
    registry.apply(doc)
    ref = "plugin:edge/header-scrubber@0.4.1"
    registry.set_status(ref, {**registry.get(ref).status, "security": {"critical": 0}})
    doc["metadata"]["title"] = "Renamed"
    assert registry.apply(copy.deepcopy(doc)).outcome == "updated"
    status = registry.get(ref).status
    assert status["security"] == {"critical": 0}
    assert status["wasm"]["exports"] == [{"name": "scrub", "kind": "func"}]
    doc["spec"]["module"]["wat"] = module("add.wat").decode()
    doc["spec"]["exports"] = ["add"]
    registry.apply(doc)
    status = registry.get(ref).status
    assert [e["name"] for e in status["wasm"]["exports"]] == ["add", "noop", "half"]
    assert status["security"] == {"critical": 0}


def test_bulk_worker_prepares_inline_modules_like_the_registry(
    open_registry: Callable[..., Registry],
) -> None:
    """Inline modules are checked in the bulk worker (no registry there), digest modules
    where the registry is: the same outcomes, refusals and ``status.wasm`` either way."""
    from hyper_registry.core.bulk import BulkPreparer
    from hyper_registry.kinds.plugin import KIND

    add = module("add.wat").decode()
    docs: list[dict[str, Any]] = [
        plugin(f"p{i}", {"module": {"wat": add}, "exports": ["add"]}) for i in range(12)
    ]
    docs.append(
        plugin("files", {"module": {"wat": module("files.wat").decode()}})
    )  # fs, undeclared
    docs.append(plugin("broken", {"module": {"wat": "(module"}}))
    docs.append(plugin("blob", {"module": {"digest": "sha256:" + "0" * 64}}))  # never pushed
    assert [KIND.prepared_in_registry(d) for d in docs[-3:]] == [False, False, True]
    assert KIND.prepared_in_registry({"kind": "plugin", "spec": {"module": "oops"}})

    there = open_registry(parallel_prepare_min=10, prepare_workers=1)
    got = there.apply_many(docs, atomic=False, batch_size=100)
    assert there.extension(BulkPreparer)._proc is not None  # the worker did run
    refused = {e.ref: e.error for e in got.errors}
    assert set(refused) == {"plugin:lab/files@1.0.0", "plugin:lab/broken@1.0.0",
                            "plugin:lab/blob@1.0.0"}  # fmt: skip
    assert "push it first" in str(refused["plugin:lab/blob@1.0.0"])
    status = there.get("plugin:lab/p3@1.0.0").status["wasm"]
    assert status["runnable"] is True
    assert {e["name"] for e in status["exports"]} >= {"add"}

    here = open_registry(parallel_prepare_min=0)
    again = here.apply_many(docs, atomic=False, batch_size=100)
    assert [(e.index, e.ref, type(e.error)) for e in again.errors] == [
        (e.index, e.ref, type(e.error)) for e in got.errors
    ]
    assert again.counts()["unchanged"] == 12  # same bodies, same content hashes
    assert here.get("plugin:lab/p3@1.0.0").status["wasm"] == status


def test_bulk_worker_applies_the_configured_module_limit(
    open_registry: Callable[..., Registry],
) -> None:
    big = "(module " + " ".join(f'(func (export "f{i}"))' for i in range(400)) + ")"
    docs = [plugin(f"p{i}", {"module": {"wat": big}}) for i in range(12)]
    assert len(wat_to_wasm(big)) > 1024
    reg = open_registry(parallel_prepare_min=10, prepare_workers=1, plugin_max_module_bytes=1024)
    report = reg.apply_many(docs, atomic=False, batch_size=100)
    assert len(report.errors) == 12
    assert all("the limit is 1024 bytes" in str(e.error.problems[0].message) for e in report.errors)
