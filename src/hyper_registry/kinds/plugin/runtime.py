"""The plugin runtime of one registry: its wasmtime engine, epoch ticker, compile cache and runs.

Built per registry by ``registry.extension(PluginRuntime)`` and closed with it. The
engine is configured once (fuel metering, epoch interruption, a bounded wasm stack);
compiled modules are kept in memory (a small LRU) and on disk (:mod:`compile_cache`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyper_registry.core.errors import Invalid, Unavailable
from hyper_registry.core.ref import Ref
from hyper_registry.kinds.plugin.compile_cache import CompileCache, load_secret
from hyper_registry.kinds.plugin.errors import PluginNotRunnable
from hyper_registry.kinds.plugin.inspect import Inspection, MalformedModule, digest_of, inspect
from hyper_registry.kinds.plugin.limits import limits_for
from hyper_registry.kinds.plugin.permissions import WASI_MODULE, check
from hyper_registry.kinds.plugin.sandbox import TICK_SECONDS, RunRequest, execute
from hyper_registry.kinds.plugin.source import module_bytes, source_field
from hyper_registry.kinds.plugin.spec import PluginSpec
from hyper_registry.kinds.plugin.tables import ModuleBlobs

if TYPE_CHECKING:
    import wasmtime

    from hyper_registry.core.registry import Registry

log = logging.getLogger(__name__)

MAX_WASM_STACK = 512 * 1024
MEMORY_CACHE = 32
INSPECTION_CACHE = 1024
ENGINE_CONFIG: dict[str, Any] = {
    "consume_fuel": True,
    "epoch_interruption": True,
    "max_wasm_stack": MAX_WASM_STACK,
    "cranelift_opt_level": "speed",
}
"""Everything the engine is configured with; part of the compile cache's key."""


class PluginRuntime:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.settings = registry.settings
        self.blobs = ModuleBlobs(registry.store.engine)
        self._lock = threading.Lock()
        self._engine: wasmtime.Engine | None = None
        self._cache: CompileCache | None = None
        self._modules: OrderedDict[str, wasmtime.Module] = OrderedDict()
        self._prepared: OrderedDict[str, tuple[Inspection, wasmtime.Module]] = OrderedDict()
        self._inspections: OrderedDict[str, Inspection] = OrderedDict()
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()
        self._slots = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))

    # -- engine, ticker, cache -----------------------------------------------------------

    @property
    def engine(self) -> wasmtime.Engine:
        with self._lock:
            if self._engine is None:
                import wasmtime

                cfg = wasmtime.Config()
                cfg.consume_fuel = ENGINE_CONFIG["consume_fuel"]
                cfg.epoch_interruption = ENGINE_CONFIG["epoch_interruption"]
                cfg.max_wasm_stack = ENGINE_CONFIG["max_wasm_stack"]
                cfg.cranelift_opt_level = ENGINE_CONFIG["cranelift_opt_level"]
                self._engine = wasmtime.Engine(cfg)
            return self._engine

    @property
    def cache(self) -> CompileCache:
        with self._lock:
            if self._cache is None:
                data_dir = Path(self.settings.data_dir)
                root = self.settings.plugin_cache_dir or data_dir / "plugin-cache"
                secret = load_secret(data_dir / "plugin-cache.key")
                self._cache = CompileCache(Path(root), secret, ENGINE_CONFIG)
                removed = self._cache.prune()
                if removed:
                    log.info("plugin cache: removed %d stale tree(s)", removed)
            return self._cache

    def _ensure_ticker(self) -> None:
        with self._lock:
            if self._ticker is not None or self._stop.is_set():
                return
            engine = self._engine
            assert engine is not None
            stop = self._stop

            def tick() -> None:
                while not stop.wait(TICK_SECONDS):
                    engine.increment_epoch()

            self._ticker = threading.Thread(target=tick, name="plugin-epoch", daemon=True)
            self._ticker.start()

    def close(self) -> None:
        self._stop.set()
        ticker = self._ticker
        if ticker is not None:
            ticker.join(timeout=5)
        with self._lock:
            self._modules.clear()
            self._prepared.clear()
            self._inspections.clear()

    # -- compile ---------------------------------------------------------------------------

    def compiled(self, data: bytes, digest: str | None = None) -> tuple[wasmtime.Module, str]:
        """The compiled module and where it came from: ``memory``, ``cache`` or ``compiled``."""
        import wasmtime

        digest = digest or digest_of(data)
        engine = self.engine
        with self._lock:
            found = self._modules.get(digest)
            if found is not None:
                self._modules.move_to_end(digest)
                return found, "memory"
        cache = self.cache
        module = cache.load(engine, digest)
        source = "cache"
        if module is None:
            try:
                module = wasmtime.Module(engine, data)
            except wasmtime.WasmtimeError as exc:
                first = (str(exc).strip().splitlines() or ["invalid module"])[0]
                raise Invalid.at(("module",), f"the module does not compile: {first}") from None
            cache.store(digest, module)
            source = "compiled"
        with self._lock:
            self._modules[digest] = module
            while len(self._modules) > MEMORY_CACHE:
                self._modules.popitem(last=False)
        return module, source

    def forget(self, digest: str) -> None:
        """Drop the in-memory compiled module (the disk cache stays: it is keyed by content)."""
        with self._lock:
            self._modules.pop(digest, None)
            for key in [k for k, (info, _) in self._prepared.items() if info.digest == digest]:
                del self._prepared[key]

    # -- modules of entries ----------------------------------------------------------------

    def module_of(self, spec: PluginSpec) -> bytes:
        try:
            data = module_bytes(spec.module, self.blobs)
        except MalformedModule as exc:
            raise Invalid(
                exc.message, problems=[exc.problem(("spec", "module", source_field(spec.module)))]
            ) from None
        if len(data) > self.settings.plugin_max_module_bytes:
            raise Invalid.at(
                ("spec", "module"),
                f"the module is {len(data)} bytes; this server runs modules up to "
                f"{self.settings.plugin_max_module_bytes} bytes",
                "too-large",
            )
        return data

    def inspection(self, spec: PluginSpec) -> Inspection:
        """The module's inventory, remembered by its source (raises :class:`MalformedModule`).

        Registration rules call this for every plugin document; a re-applied file (the
        same text or digest) costs a dictionary lookup instead of a validation.
        """
        key = _source_key(spec)
        with self._lock:
            hit = self._inspections.get(key)
            if hit is not None:
                self._inspections.move_to_end(key)
                return hit
        data = module_bytes(spec.module, self.blobs)
        limit = self.settings.plugin_max_module_bytes
        if len(data) > limit:
            raise MalformedModule(
                "too-large", f"the module is {len(data)} bytes; the limit is {limit} bytes"
            )
        info = inspect(data)
        with self._lock:
            self._inspections[key] = info
            while len(self._inspections) > INSPECTION_CACHE:
                self._inspections.popitem(last=False)
        return info

    def prepared(self, spec: PluginSpec) -> tuple[Inspection, wasmtime.Module, str]:
        """The module's inventory and compiled form, remembered by the module's source."""
        key = _source_key(spec)
        with self._lock:
            hit = self._prepared.get(key)
            if hit is not None:
                self._prepared.move_to_end(key)
                return hit[0], hit[1], "memory"
        data = self.module_of(spec)
        info = inspect_or_invalid(data)
        module, source = self.compiled(data, info.digest)
        with self._lock:
            self._prepared[key] = (info, module)
            while len(self._prepared) > MEMORY_CACHE:
                self._prepared.popitem(last=False)
        return info, module, source

    def files_dir(self, ref: Ref) -> Path:
        """The plugin's own directory (shared by its versions), preopened as /data."""
        path = Path(self.settings.data_dir) / "plugin-files" / ref.namespace / ref.name
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    # -- run ---------------------------------------------------------------------------------

    def run(
        self,
        ref: Ref | str,
        export: str,
        args: Sequence[str] = (),
        stdin: bytes | None = None,
    ) -> dict[str, Any]:
        """Run one export of a registered plugin in its sandbox."""
        entry = self.registry.get(ref)
        if entry.kind != "plugin":
            raise Invalid.at(("ref",), f"{entry.ref} is not a plugin", "not-a-plugin")
        spec = PluginSpec.model_validate(entry.spec)
        limits = limits_for(self.settings, spec.sandboxing)
        info, module, source = self.prepared(spec)
        _checked(info, spec)
        if export not in info.export_names():
            have = ", ".join(sorted(e.name for e in info.exports if e.kind == "func")) or "none"
            raise Invalid.at(
                ("export",),
                f"{entry.ref} has no export {export!r}; its function exports: {have}",
                "no-export",
            )
        self._ensure_ticker()
        env = {k: os.environ[k] for k in self.settings.plugin_env_allowlist if k in os.environ}
        fs = {"fs:read", "fs:write"} & set(spec.permissions)
        req = RunRequest(
            export=export,
            args=list(args),
            stdin=stdin,
            permissions=list(spec.permissions),
            program=entry.ref.name,
            env=env,
            files_dir=self.files_dir(entry.ref) if fs else None,
            output_limit=self.settings.plugin_output_bytes,
            wasi=any(i.module == WASI_MODULE for i in info.imports),
            output=any(i.module == WASI_MODULE and i.name == "fd_write" for i in info.imports),
        )
        if not self._slots.acquire(timeout=limits.timeout):
            raise Unavailable("too many plugin runs at once; try again")
        try:
            result = execute(self.engine, module, limits, req)
        finally:
            self._slots.release()
        return {"ref": str(entry.ref), "module": info.digest, "compiledFrom": source, **result}


def _source_key(spec: PluginSpec) -> str:
    """What identifies a module's source without compiling it: its digest, or a text hash."""
    m = spec.module
    if m.digest is not None:
        return m.digest
    text = m.wat if m.wat is not None else m.wasm or ""
    return ("wat:" if m.wat is not None else "wasm:") + hashlib.sha256(text.encode()).hexdigest()


def inspect_or_invalid(data: bytes) -> Inspection:
    try:
        return inspect(data)
    except MalformedModule as exc:
        raise Invalid(exc.message, problems=[exc.problem(("spec", "module"))]) from None


def _checked(info: Inspection, spec: PluginSpec) -> Inspection:
    """Refuse to run what the permission check refuses (again: rules may have been bypassed)."""
    result = check(info.imports, spec.permissions)
    problems = result.problems()
    if problems:
        raise Invalid("the module does not match its permissions", problems=problems)
    if result.host_imports:
        names = ", ".join(str(i) for i in result.host_imports[:20])
        raise PluginNotRunnable(
            f"the module imports {names}, which this sandbox does not provide "
            "(it provides WASI preview 1 only)"
        )
    return info
