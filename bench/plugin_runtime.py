"""Plugin runtime: first compile vs cached instantiate of a ~1 MB module; trivial-run latency.

Prints one JSON line:

- ``first_compile_ms``: wasmtime compiles the generated module (≈1 MB of code) with the
  registry's engine and writes the authenticated cache entry (fresh data dir, median of
  ``--repeat`` fresh dirs);
- ``cached_instantiate_ms``: a new registry on the same data dir loads the module from
  the compile cache (HMAC check + deserialize) and instantiates it in a fresh store;
- ``warm_instantiate_ms``: instantiation alone, the compiled module already in memory;
- ``compile_vs_cached_ratio``: first_compile_ms / cached_instantiate_ms;
- ``run_p50_ms`` / ``run_p99_ms``: ``PluginRuntime.run`` of a trivial export (``add``
  of a small pushed plugin; the whole path: entry read, permission check, store, WASI,
  instantiate, call), ``--runs`` times; ``run_wasi_p50_ms`` the same call in a module
  that imports WASI (so it gets argv, captured stdio); ``run_big_p50_ms`` on the 1 MB module.

    .venv/bin/python bench/plugin_runtime.py [--repeat 3] [--runs 300] [--functions 3300]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import wasmtime

from _common import emit, log, machine, median, percentile
from hyper_registry import Ref, Registry, Settings
from hyper_registry.kinds.plugin.compile_cache import wasmtime_version
from hyper_registry.kinds.plugin.push import push
from hyper_registry.kinds.plugin.runtime import PluginRuntime

SMALL = """(module
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))"""
# The same trivial call from a WASI module (stdio captured: a FIFO and a drain thread each).
SMALL_WASI = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "argc") (result i32)
    (drop (call $sizes (i32.const 0) (i32.const 4))) (i32.load (i32.const 0))))"""


def big_module(functions: int) -> bytes:
    """A module with ``functions`` functions of straight-line arithmetic, plus trivial exports."""
    parts = ["(module", '  (func (export "noop"))']
    for f in range(functions):
        body = " ".join(
            f"local.get 0 i32.const {f * 131 + i} i32.mul i32.const {i + 7} i32.xor local.set 0"
            for i in range(24)
        )
        parts.append(f'  (func (export "f{f}") (param i32) (result i32) {body} local.get 0)')
    parts.append(")")
    return bytes(wasmtime.wat2wasm("\n".join(parts)))


def instantiate(runtime: PluginRuntime, module: wasmtime.Module) -> None:
    store = wasmtime.Store(runtime.engine)
    store.set_fuel(1_000_000)
    wasmtime.Instance(store, module, [])
    store.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--runs", type=int, default=300)
    p.add_argument("--functions", type=int, default=3300, help="sets the module size")
    args = p.parse_args()

    data = big_module(args.functions)
    log(f"module: {len(data)} bytes, {args.functions + 1} functions")
    root = Path(tempfile.mkdtemp(prefix="hr-bench-plugin-"))
    compile_ms: list[float] = []
    cached_ms: list[float] = []
    warm_ms: list[float] = []
    try:
        for i in range(args.repeat):
            settings = Settings(data_dir=root / f"d{i}")
            with Registry.open(settings) as reg:
                runtime = reg.extension(PluginRuntime)
                runtime.engine  # noqa: B018 - build the engine outside the timing
                t = time.perf_counter()
                module, source = runtime.compiled(data)
                compile_ms.append((time.perf_counter() - t) * 1000)
                assert source == "compiled"
            with Registry.open(settings) as reg:
                runtime = reg.extension(PluginRuntime)
                runtime.engine  # noqa: B018
                runtime.cache  # noqa: B018 - the key file is read once per process
                t = time.perf_counter()
                module, source = runtime.compiled(data)
                instantiate(runtime, module)
                cached_ms.append((time.perf_counter() - t) * 1000)
                assert source == "cache"
                for _ in range(5):
                    t = time.perf_counter()
                    instantiate(runtime, module)
                    warm_ms.append((time.perf_counter() - t) * 1000)
            log(f"repeat {i + 1}: compile {compile_ms[-1]:.1f} ms, cached {cached_ms[-1]:.2f} ms")

        with Registry.open(Settings(data_dir=root / "runs")) as reg:
            push(reg, SMALL.encode(), Ref.parse("plugin:bench/add@1.0.0"))
            push(reg, data, Ref.parse("plugin:bench/big@1.0.0"))
            push(reg, SMALL_WASI.encode(), Ref.parse("plugin:bench/wasi@1.0.0"))
            runtime = reg.extension(PluginRuntime)
            small: list[float] = []
            big: list[float] = []
            for _ in range(20):  # warm-up
                runtime.run("plugin:bench/add@1.0.0", "add", ["1", "2"])
            for _ in range(args.runs):
                t = time.perf_counter()
                out = runtime.run("plugin:bench/add@1.0.0", "add", ["1", "2"])
                small.append((time.perf_counter() - t) * 1000)
            assert out["results"] == [3]
            wasi: list[float] = []
            for _ in range(args.runs):
                t = time.perf_counter()
                runtime.run("plugin:bench/wasi@1.0.0", "argc")
                wasi.append((time.perf_counter() - t) * 1000)
            for _ in range(max(20, args.runs // 5)):
                t = time.perf_counter()
                runtime.run("plugin:bench/big@1.0.0", "noop")
                big.append((time.perf_counter() - t) * 1000)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    first, cached = median(compile_ms), median(cached_ms)
    emit(
        {
            "bench": "plugin_runtime",
            "module_bytes": len(data),
            "wasmtime": wasmtime_version(),
            "first_compile_ms": round(first, 2),
            "cached_instantiate_ms": round(cached, 3),
            "warm_instantiate_ms": round(median(warm_ms), 3),
            "compile_vs_cached_ratio": round(first / cached, 1),
            "run_p50_ms": round(median(small), 3),
            "run_p99_ms": round(percentile(small, 99), 3),
            "run_wasi_p50_ms": round(median(wasi), 3),
            "run_big_p50_ms": round(median(big), 3),
            "runs": args.runs,
            "repeat": args.repeat,
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
