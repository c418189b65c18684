"""The compiled-module cache: the registry's own wasmtime output, and only that, on disk.

A compiled module is native code: loading bytes someone else produced would run their
code outside the sandbox. So:

- a cache file is keyed by (module digest, wasmtime version, engine configuration);
  the version and the configuration fingerprint are directories, so an upgrade or a
  configuration change misses (and recompiles) and :meth:`CompileCache.prune`
  removes the stale trees;
- every file carries an HMAC-SHA256 of its key and payload under a per-data-dir
  secret (``plugin-cache.key``, 32 random bytes, mode 0600, created on first use);
  a file whose tag does not verify is deleted and the module recompiled;
- wasmtime's deserializer is only ever called on payloads that verified.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import platform
import secrets
import shutil
from functools import lru_cache
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from hyper_registry.core.errors import Unavailable

if TYPE_CHECKING:
    import wasmtime

log = logging.getLogger(__name__)

MAGIC = b"HRCWASM1"
TAG_BYTES = 32
SECRET_BYTES = 32


@lru_cache(maxsize=1)
def wasmtime_version() -> str:
    """The installed wasmtime's version (read once: an upgrade takes a restart to load)."""
    return package_version("wasmtime")


def load_secret(path: Path) -> bytes:
    """The cache's HMAC key: read, or created once with mode 0600 (never overwritten)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(SECRET_BYTES))
            fh.flush()
            os.fsync(fh.fileno())
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Unavailable(f"the plugin cache key cannot be read: {exc.strerror}") from None
    if len(data) != SECRET_BYTES:
        raise Unavailable(
            "the plugin cache key file is damaged; delete plugin-cache.key in the data "
            "directory (the cache is rebuilt)"
        )
    return data


class CompileCache:
    """Compiled modules under ``root/wasmtime-<version>/<config fingerprint>/``."""

    def __init__(
        self,
        root: Path,
        secret: bytes,
        config: dict[str, Any],
        *,
        runtime_version: str | None = None,
    ) -> None:
        self.root = root
        self._secret = secret
        self.version = runtime_version or wasmtime_version()
        fingerprint = orjson.dumps(
            {"config": config, "machine": platform.machine(), "system": platform.system()},
            option=orjson.OPT_SORT_KEYS,
        )
        self.fingerprint = hashlib.sha256(fingerprint).hexdigest()[:16]
        self.dir = root / f"wasmtime-{self.version}" / self.fingerprint

    def _key(self, digest: str) -> bytes:
        return f"{digest}\n{self.version}\n{self.fingerprint}\n".encode()

    def _tag(self, digest: str, payload: bytes) -> bytes:
        mac = hmac.new(self._secret, self._key(digest), hashlib.sha256)
        mac.update(payload)
        return mac.digest()

    def path(self, digest: str) -> Path:
        algo, _, hexdigest = digest.partition(":")
        if algo != "sha256" or len(hexdigest) != 64:
            raise ValueError(f"not a module digest: {digest!r}")
        return self.dir / f"{hexdigest}.cwasm"

    def load(self, engine: wasmtime.Engine, digest: str) -> wasmtime.Module | None:
        """The cached module, or None (missing, or refused because its tag did not verify)."""
        import wasmtime

        path = self.path(digest)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("plugin cache file unreadable (%s); recompiling", exc.strerror)
            return None
        head = len(MAGIC) + TAG_BYTES
        payload = raw[head:]
        if (
            len(raw) <= head
            or raw[: len(MAGIC)] != MAGIC
            or not hmac.compare_digest(raw[len(MAGIC) : head], self._tag(digest, payload))
        ):
            log.warning("plugin cache entry %s failed its integrity check; deleted", path.name)
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        try:
            return wasmtime.Module.deserialize(engine, payload)
        except wasmtime.WasmtimeError:  # ours, but not loadable by this engine: recompile
            with contextlib.suppress(OSError):
                path.unlink()
            return None

    def store(self, digest: str, module: wasmtime.Module) -> None:
        """Write the module's serialized form with its tag (atomically; errors only logged)."""
        payload = bytes(module.serialize())
        path = self.path(digest)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = path.with_suffix(f".tmp-{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(MAGIC + self._tag(digest, payload) + payload)
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("plugin cache not written (%s)", exc.strerror)

    def prune(self) -> int:
        """Remove trees of other wasmtime versions or configurations; how many were removed."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for version_dir in self.root.glob("wasmtime-*"):
            if not version_dir.is_dir():
                continue
            if version_dir.name != f"wasmtime-{self.version}":
                shutil.rmtree(version_dir, ignore_errors=True)
                removed += 1
                continue
            for config_dir in version_dir.iterdir():
                if config_dir.is_dir() and config_dir.name != self.fingerprint:
                    shutil.rmtree(config_dir, ignore_errors=True)
                    removed += 1
        return removed
