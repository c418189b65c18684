"""The compile cache: keyed, authenticated, invalidated by a wasmtime or configuration change."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import wasmtime

from hyper_registry import Registry, Settings, Unavailable
from hyper_registry.kinds.plugin.compile_cache import CompileCache, load_secret
from hyper_registry.kinds.plugin.inspect import digest_of, wat_to_wasm
from hyper_registry.kinds.plugin.runtime import ENGINE_CONFIG, PluginRuntime

from .conftest import module, pusher

ADD = wat_to_wasm(module("add.wat").decode())
DIGEST = digest_of(ADD)


def cache(tmp_path: Path, **kwargs: object) -> CompileCache:
    secret = load_secret(tmp_path / "plugin-cache.key")
    return CompileCache(tmp_path / "cache", secret, ENGINE_CONFIG, **kwargs)  # type: ignore[arg-type]


def compiled(engine: wasmtime.Engine) -> wasmtime.Module:
    return wasmtime.Module(engine, ADD)


def test_secret_is_private_and_stable(tmp_path: Path) -> None:
    first = load_secret(tmp_path / "k")
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o600
    assert load_secret(tmp_path / "k") == first
    assert len(first) == 32
    (tmp_path / "bad").write_bytes(b"short")
    with pytest.raises(Unavailable, match="damaged"):
        load_secret(tmp_path / "bad")


def test_round_trip(tmp_path: Path) -> None:
    engine = wasmtime.Engine()
    c = cache(tmp_path)
    assert c.load(engine, DIGEST) is None
    c.store(DIGEST, compiled(engine))
    assert stat.S_IMODE(c.path(DIGEST).stat().st_mode) == 0o600
    loaded = c.load(engine, DIGEST)
    assert loaded is not None
    assert [e.name for e in loaded.exports] == ["add", "noop", "half"]


def test_tampered_entry_is_deleted_not_loaded(tmp_path: Path) -> None:
    engine = wasmtime.Engine()
    c = cache(tmp_path)
    c.store(DIGEST, compiled(engine))
    raw = bytearray(c.path(DIGEST).read_bytes())
    raw[-100] ^= 0xFF
    c.path(DIGEST).write_bytes(bytes(raw))
    assert c.load(engine, DIGEST) is None
    assert not c.path(DIGEST).exists()


def test_entry_under_another_secret_or_name_is_refused(tmp_path: Path) -> None:
    engine = wasmtime.Engine()
    c = cache(tmp_path)
    c.store(DIGEST, compiled(engine))
    other = CompileCache(tmp_path / "cache", b"x" * 32, ENGINE_CONFIG)
    assert other.load(engine, DIGEST) is None
    # a valid file copied under another module's name does not verify either
    c.store(DIGEST, compiled(engine))
    moved = "sha256:" + "1" * 64
    c.path(DIGEST).rename(c.path(moved))
    assert c.load(engine, moved) is None


def test_user_supplied_serialized_bytes_are_never_loaded(tmp_path: Path) -> None:
    """Bytes that wasmtime itself would deserialize, planted without the tag, are refused."""
    engine = wasmtime.Engine()
    c = cache(tmp_path)
    c.path(DIGEST).parent.mkdir(parents=True)
    c.path(DIGEST).write_bytes(bytes(compiled(engine).serialize()))
    assert c.load(engine, DIGEST) is None


def test_wasmtime_upgrade_misses_and_prunes(tmp_path: Path) -> None:
    engine = wasmtime.Engine()
    old = cache(tmp_path, runtime_version="49.0.0")
    old.store(DIGEST, compiled(engine))
    new = cache(tmp_path)
    assert new.version != "49.0.0"
    assert new.load(engine, DIGEST) is None
    assert new.prune() == 1
    assert not old.dir.exists()


def test_configuration_change_misses(tmp_path: Path) -> None:
    engine = wasmtime.Engine()
    cache(tmp_path).store(DIGEST, compiled(engine))
    changed = CompileCache(
        tmp_path / "cache",
        load_secret(tmp_path / "plugin-cache.key"),
        {**ENGINE_CONFIG, "max_wasm_stack": 1},
    )
    assert changed.load(engine, DIGEST) is None


def test_runtime_uses_memory_then_disk_then_compiles(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d")
    with Registry.open(settings) as reg:
        pusher(reg)("add")  # compiled at push
        assert (
            reg.extension(PluginRuntime).run("plugin:lab/add", "noop")["compiledFrom"] == "memory"
        )
    with Registry.open(settings) as reg:
        runtime = reg.extension(PluginRuntime)
        assert runtime.run("plugin:lab/add", "noop")["compiledFrom"] == "cache"
        runtime.forget(DIGEST)
        for path in runtime.cache.dir.iterdir():
            path.write_bytes(b"HRCWASM1" + b"\0" * 64)
        assert runtime.run("plugin:lab/add", "add", ["1", "1"])["compiledFrom"] == "compiled"
        assert runtime.run("plugin:lab/add", "add", ["1", "1"])["results"] == [2]
