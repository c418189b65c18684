"""One sandboxed call of a plugin's export: a fresh store, only the permitted WASI, limits.

The store gets the run's fuel, a memory limit (store limits: ``memory.grow`` fails and
instantiation beyond it is refused) and an epoch deadline (the runtime's ticker thread
advances the engine's epoch). WASI gets: the arguments, stdin from the caller's bytes,
stdout and stderr captured up to a cap, the allowlisted environment only with ``env``,
and the plugin's own directory at ``/data`` only with ``fs:read`` (read-only) or
``fs:write`` (read-write). ``poll_oneoff`` answers ENOTSUP: a host-side sleep is the
one thing the epoch cannot interrupt.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyper_registry.core.errors import Invalid
from hyper_registry.kinds.plugin.errors import (
    PluginFuel,
    PluginMemory,
    PluginRunError,
    PluginStack,
    PluginTimeout,
    PluginTrap,
)
from hyper_registry.kinds.plugin.inspect import WASM_PAGE
from hyper_registry.kinds.plugin.limits import (
    INSTANCES,
    MAX_FUEL,
    MEMORIES,
    TABLE_ELEMENTS,
    TABLES,
    Limits,
)
from hyper_registry.kinds.plugin.permissions import WASI_MODULE

ENOTSUP = 58
PLUGIN_INSTANCE = "hyper-registry:plugin"
GUEST_DIR = "/data"


class Capture:
    """A stream captured up to ``limit`` bytes; the rest is counted and dropped."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.kept = 0
        self.total = 0

    def write(self, data: bytes) -> int:
        self.total += len(data)
        room = self.limit - self.kept
        if room > 0:
            piece = data[:room]
            self.parts.append(piece)
            self.kept += len(piece)
        return len(data)

    def text(self) -> str:
        return b"".join(self.parts).decode("utf-8", "replace")

    @property
    def truncated(self) -> bool:
        return self.total > self.kept


class PipeCapture:
    """A FIFO that WASI writes a stream to, drained by a thread into a capped :class:`Capture`.

    wasmtime's callback streams (``stdout_custom``) may be released from one of its
    worker threads after the run, even at interpreter exit, which aborts the process;
    a file descriptor is released cleanly. A FIFO keeps the cap in memory: nothing
    the plugin writes reaches the disk.
    """

    def __init__(self, path: Path, limit: int) -> None:
        self.path = path
        self.capture = Capture(limit)
        os.mkfifo(path, 0o600)
        # Open the reading end first (without blocking), so WASI's open for writing
        # finds a reader; then read in blocking mode until every writer has closed.
        self._fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self._thread = threading.Thread(target=self._drain, name="plugin-output", daemon=True)

    def start(self) -> None:
        os.set_blocking(self._fd, True)
        self._thread.start()

    def _drain(self) -> None:
        try:
            while True:
                chunk = os.read(self._fd, 65536)
                if not chunk:
                    return
                self.capture.write(chunk)
        except OSError:  # pragma: no cover - the descriptor is ours
            return
        finally:
            os.close(self._fd)

    def finish(self, timeout: float = 5.0) -> Capture:
        """Wait for the end of the stream (the writer closed); the capture so far."""
        if self._thread.ident is None:  # never started: the run failed before it began
            os.close(self._fd)
        else:
            self._thread.join(timeout)
        return self.capture


@dataclass
class RunRequest:
    export: str
    args: Sequence[str]
    stdin: bytes | None
    permissions: Sequence[str]
    program: str
    env: dict[str, str]
    files_dir: Path | None
    output_limit: int
    wasi: bool = True
    """the module imports WASI (else it gets none)"""
    output: bool = True
    """the module imports fd_write (else no stdout/stderr pipes)"""


def _convert_args(export: str, params: Sequence[Any], args: Sequence[str]) -> list[Any]:
    import wasmtime

    if not params:
        return []
    if len(args) != len(params):
        kinds = ", ".join(str(p) for p in params)
        raise Invalid.at(
            ("args",),
            f"export {export!r} takes {len(params)} argument{'s' if len(params) != 1 else ''} "
            f"({kinds}); got {len(args)}",
            "bad-args",
        )
    out: list[Any] = []
    for i, (ty, raw) in enumerate(zip(params, args, strict=True)):
        try:
            if ty == wasmtime.ValType.i32() or ty == wasmtime.ValType.i64():
                bits = 32 if ty == wasmtime.ValType.i32() else 64
                value = int(raw, 0)
                if not -(2 ** (bits - 1)) <= value < 2**bits:
                    raise ValueError
                if value >= 2 ** (bits - 1):
                    value -= 2**bits
                out.append(value)
            elif ty == wasmtime.ValType.f32() or ty == wasmtime.ValType.f64():
                out.append(float(raw))
            else:
                raise Invalid.at(
                    ("args", i), f"export {export!r} takes a {ty} parameter", "bad-args"
                )
        except ValueError:
            raise Invalid.at(
                ("args", i), f"argument {raw!r} is not a valid {ty}", "bad-args"
            ) from None
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def _cause(message: str) -> str:
    """wasmtime's error text without its backtrace: the 'Caused by' part."""
    lines = [ln.strip() for ln in message.strip().splitlines() if ln.strip()]
    if "Caused by:" in lines:
        rest = lines[lines.index("Caused by:") + 1 :]
        if rest:
            return "; ".join(rest)[:500]
    return (lines[0] if lines else "the plugin failed")[:500]


def execute(engine: Any, module: Any, limits: Limits, req: RunRequest) -> dict[str, Any]:
    """Run ``req.export`` of ``module``; a failure raises a :class:`PluginRunError`."""
    import wasmtime

    store = wasmtime.Store(engine)
    store.set_fuel(limits.fuel if limits.fuel is not None else MAX_FUEL)
    store.set_limits(
        memory_size=limits.memory_bytes,
        table_elements=TABLE_ELEMENTS,
        instances=INSTANCES,
        tables=TABLES,
        memories=MEMORIES,
    )
    ticks = max(1, math.ceil(limits.timeout / TICK_SECONDS)) + 1
    store.set_epoch_deadline(ticks)

    # A module without WASI imports gets no WASI at all (and no directory, pipes, threads).
    tmp = tempfile.TemporaryDirectory(prefix="hr-plugin-") if req.wasi else None
    pipes: list[PipeCapture] = []
    try:
        if tmp is not None and req.output:
            for stream in ("stdout", "stderr"):
                pipes.append(PipeCapture(Path(tmp.name) / stream, req.output_limit))
        try:
            if tmp is not None:
                store.set_wasi(_wasi_config(req, pipes, Path(tmp.name)))
            results, exit_code, elapsed = _call(store, engine, module, limits, req)
            used = None if limits.fuel is None else limits.fuel - store.get_fuel()
        finally:
            store.close()  # closes the writing ends: the drains see the end of the streams
    finally:
        captured = [p.finish() for p in pipes]
        if tmp is not None:
            tmp.cleanup()
    out, err = captured if captured else (Capture(0), Capture(0))
    return {
        "export": req.export,
        "results": results,
        "exitCode": exit_code,
        "stdout": out.text(),
        "stderr": err.text(),
        "stdoutTruncated": out.truncated,
        "stderrTruncated": err.truncated,
        "fuelConsumed": used,
        "durationMs": round(elapsed * 1000, 3),
        "limits": limits.to_dict(),
    }


def _wasi_config(req: RunRequest, pipes: Sequence[PipeCapture], tmp: Path) -> Any:
    """Only what the permissions grant: args, stdio, the allowlisted env, the plugin's dir."""
    import wasmtime

    wasi = wasmtime.WasiConfig()
    wasi.argv = [req.program, *req.args]
    if "env" in req.permissions:
        wasi.env = list(req.env.items())
    if pipes:
        wasi.stdout_file = str(pipes[0].path)
        wasi.stderr_file = str(pipes[1].path)
        for pipe in pipes:
            pipe.start()
    if req.stdin:
        stdin_path = tmp / "stdin"
        stdin_path.write_bytes(req.stdin)
        wasi.stdin_file = str(stdin_path)
    if req.files_dir is not None and {"fs:read", "fs:write"} & set(req.permissions):
        wasi.preopen_dir(str(req.files_dir), GUEST_DIR, fs_mutable="fs:write" in req.permissions)
    return wasi


def _call(
    store: Any, engine: Any, module: Any, limits: Limits, req: RunRequest
) -> tuple[list[Any], int | None, float]:
    import wasmtime

    linker = wasmtime.Linker(engine)
    linker.allow_shadowing = True
    if req.wasi:
        linker.define_wasi()
        i32 = wasmtime.ValType.i32()
        linker.define_func(
            WASI_MODULE, "poll_oneoff", wasmtime.FuncType([i32] * 4, [i32]), lambda *_: ENOTSUP
        )

    started = time.perf_counter()
    instance = None
    exit_code: int | None = None
    results: list[Any] = []
    try:
        instance = linker.instantiate(store, module)
        # Look the export up by name in Rust: InstanceExports lists every export in Python.
        linker.define_instance(store, PLUGIN_INSTANCE, instance)
        try:
            func = linker.get(store, PLUGIN_INSTANCE, req.export)
        except wasmtime.WasmtimeError:
            func = None
        if not isinstance(func, wasmtime.Func):
            raise Invalid.at(
                ("export",), f"the module has no function export {req.export!r}", "no-export"
            )
        ty = func.type(store)
        value = func(store, *_convert_args(req.export, list(ty.params), req.args))
        if value is None:
            results = []
        elif isinstance(value, list | tuple):
            results = [_plain(v) for v in value]
        else:
            results = [_plain(value)]
    except wasmtime.ExitTrap as exc:
        exit_code = exc.code
    except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
        raise _failure(exc, store, instance, limits) from None
    return results, exit_code, time.perf_counter() - started


TICK_SECONDS = 0.01
"""How often the runtime's ticker advances the engine's epoch."""


def _memory_exhausted(store: Any, instance: Any, limit: int) -> bool:
    """Whether an exported memory has grown to within a tenth of the limit (or one page)."""
    import wasmtime

    if instance is None:
        return False
    margin = max(WASM_PAGE, limit // 10)
    try:
        for ext in instance.exports(store).values():
            if isinstance(ext, wasmtime.Memory) and ext.data_len(store) + margin > limit:
                return True
    except wasmtime.WasmtimeError:  # pragma: no cover - the store is still usable here
        return False
    return False


def _failure(exc: Exception, store: Any, instance: Any, limits: Limits) -> PluginRunError:
    import wasmtime

    raw = exc.message if isinstance(exc, wasmtime.Trap) else str(exc)
    cause = _cause(raw)
    code = exc.trap_code if isinstance(exc, wasmtime.Trap) else None
    if code == wasmtime.TrapCode.OUT_OF_FUEL:
        return PluginFuel(f"the plugin used all its fuel ({limits.fuel} units) and was stopped")
    if code == wasmtime.TrapCode.INTERRUPT:
        return PluginTimeout(
            f"the plugin ran past its wall-clock limit of {limits.timeout:g} s and was stopped"
        )
    if code == wasmtime.TrapCode.STACK_OVERFLOW:
        return PluginStack(f"the plugin overflowed its call stack (deep recursion): {cause}")
    if "exceeds memory limits" in raw or "memory limit" in raw.lower():
        return PluginMemory(
            f"the plugin needs more memory than its limit of {limits.memory_bytes} bytes: {cause}"
        )
    if _memory_exhausted(store, instance, limits.memory_bytes):
        return PluginMemory(
            f"the plugin reached its memory limit of {limits.memory_bytes} bytes "
            f"(memory.grow was refused), then failed: {cause}"
        )
    if isinstance(exc, wasmtime.Trap):
        return PluginTrap(f"the plugin trapped: {cause}")
    return PluginTrap(f"the plugin failed: {cause}")
