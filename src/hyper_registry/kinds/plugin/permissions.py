"""Declared permissions against what a module actually imports.

Every WASI preview 1 import belongs to one capability (the table below, also in
docs/plugins.md). An import whose capability needs a permission the plugin did not
declare is refused, and the refusal lists those imports. Imports from other modules
(``env``, ``js``, a proxy's host API...) are not WASI: the registry's sandbox cannot
satisfy them, so such a plugin is catalogued but not runnable here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hyper_registry.core.errors import Problem
from hyper_registry.kinds.plugin.inspect import Import

WASI_MODULE = "wasi_snapshot_preview1"
"""The WASI version the runtime provides (``wasi_unstable`` is older and not provided)."""

# capability -> (the permissions of which any one grants it, the WASI functions in it)
FREE = "stdio"
CAPABILITIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    FREE: (
        (),
        (
            "args_get",
            "args_sizes_get",
            "clock_res_get",
            "clock_time_get",
            "fd_advise",
            "fd_close",
            "fd_fdstat_get",
            "fd_fdstat_set_flags",
            "fd_fdstat_set_rights",
            "fd_filestat_get",
            "fd_read",
            "fd_renumber",
            "fd_seek",
            "fd_tell",
            "fd_write",
            "poll_oneoff",
            "proc_exit",
            "proc_raise",
            "random_get",
            "sched_yield",
        ),
    ),
    "fs-read": (
        ("fs:read", "fs:write"),
        (
            "fd_datasync",
            "fd_pread",
            "fd_prestat_dir_name",
            "fd_prestat_get",
            "fd_readdir",
            "fd_sync",
            "path_filestat_get",
            "path_open",
            "path_readlink",
        ),
    ),
    "fs-write": (
        ("fs:write",),
        (
            "fd_allocate",
            "fd_filestat_set_size",
            "fd_filestat_set_times",
            "fd_pwrite",
            "path_create_directory",
            "path_filestat_set_times",
            "path_link",
            "path_remove_directory",
            "path_rename",
            "path_symlink",
            "path_unlink_file",
        ),
    ),
    "network": (
        ("network:http", "network:https"),
        ("sock_accept", "sock_recv", "sock_send", "sock_shutdown"),
    ),
    "env": (("env",), ("environ_get", "environ_sizes_get")),
}

_BY_FUNCTION = {fn: cap for cap, (_, fns) in CAPABILITIES.items() for fn in fns}


def capability_of(imp: Import) -> str | None:
    """The capability a WASI import needs, or None when it is not a WASI function we know."""
    if imp.module != WASI_MODULE or imp.kind != "func":
        return None
    if imp.name in _BY_FUNCTION:
        return _BY_FUNCTION[imp.name]
    if imp.name.startswith("sock_"):  # socket extensions of other runtimes (sock_open, ...)
        return "network"
    return None


@dataclass
class PermissionCheck:
    """The result of checking a module's imports against the declared permissions."""

    capabilities: list[str] = field(default_factory=list)
    missing: dict[str, list[Import]] = field(default_factory=dict)
    """capability -> the imports that need it but are not granted"""
    unknown_wasi: list[Import] = field(default_factory=list)
    host_imports: list[Import] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)

    @property
    def runnable(self) -> bool:
        return not self.missing and not self.unknown_wasi and not self.host_imports

    def problems(self, loc: tuple[str | int, ...] = ("spec", "permissions")) -> list[Problem]:
        """Refusals: imports whose permission is missing, and WASI functions nobody provides."""
        out: list[Problem] = []
        for cap, imports in self.missing.items():
            perms, _ = CAPABILITIES[cap]
            need = " or ".join(perms)
            names = ", ".join(str(i) for i in imports)
            out.append(
                Problem(
                    loc,
                    f"the module imports {names}, which need{'s' if len(imports) == 1 else ''} "
                    f"{need}; declare it in permissions",
                    "permission-mismatch",
                )
            )
        if self.unknown_wasi:
            names = ", ".join(str(i) for i in self.unknown_wasi)
            out.append(
                Problem(
                    loc,
                    f"the module imports {names}, which WASI preview 1 does not define",
                    "unknown-import",
                )
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "capabilities": self.capabilities,
            "hostImports": [str(i) for i in self.host_imports],
            "unusedPermissions": self.unused,
            "runnable": self.runnable,
        }


def check(imports: Sequence[Import], declared: Iterable[str]) -> PermissionCheck:
    granted = set(declared)
    result = PermissionCheck()
    needed: set[str] = set()
    for imp in imports:
        cap = capability_of(imp)
        if cap is None:
            if imp.module == WASI_MODULE:
                result.unknown_wasi.append(imp)
            else:
                result.host_imports.append(imp)
            continue
        needed.add(cap)
        perms, _ = CAPABILITIES[cap]
        if perms and not granted.intersection(perms):
            result.missing.setdefault(cap, []).append(imp)
    result.capabilities = sorted(needed)
    used = {p for cap in needed for p in CAPABILITIES[cap][0]}
    result.unused = sorted(p for p in granted if p not in used)
    return result


def mapping_table() -> list[tuple[str, str, str]]:
    """(capability, permissions, functions) rows, for the docs and ``plugin inspect``."""
    return [
        (cap, " or ".join(perms) or "(none)", ", ".join(fns))
        for cap, (perms, fns) in CAPABILITIES.items()
    ]
