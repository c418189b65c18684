"""The limits of one run, by sandboxing level, from the server's settings."""

from __future__ import annotations

from dataclasses import dataclass

from hyper_registry.core.errors import Forbidden
from hyper_registry.core.settings import Settings

MAX_FUEL = 2**63 - 1
WASM32_MEMORY = 4 * 1024 * 1024 * 1024
TABLE_ELEMENTS = 1_000_000
INSTANCES = 4
TABLES = 16
MEMORIES = 4


@dataclass(frozen=True)
class Limits:
    level: str
    fuel: int | None
    """instructions' worth of fuel; None: unmetered"""
    memory_bytes: int
    """linear memory the store may hold, all memories together"""
    timeout: float
    """wall-clock seconds (epoch interruption)"""

    def to_dict(self) -> dict[str, object]:
        return {
            "sandboxing": self.level,
            "fuel": self.fuel,
            "memoryBytes": self.memory_bytes,
            "timeoutSeconds": self.timeout,
        }


def limits_for(settings: Settings, level: str) -> Limits:
    """The limits of ``level``; ``none`` is Forbidden unless the server trusts it."""
    if level == "strict":
        return Limits(
            "strict",
            settings.plugin_strict_fuel,
            settings.plugin_strict_memory_bytes,
            settings.plugin_strict_timeout,
        )
    if level == "relaxed":
        return Limits(
            "relaxed",
            settings.plugin_relaxed_fuel,
            settings.plugin_relaxed_memory_bytes,
            settings.plugin_relaxed_timeout,
        )
    if level == "none":
        if not settings.plugin_trust_unsandboxed:
            raise Forbidden(
                "this plugin's sandboxing is 'none', which this server does not run "
                "(set HYPER_REGISTRY_PLUGIN_TRUST_UNSANDBOXED=true to trust it)"
            )
        return Limits("none", None, WASM32_MEMORY, settings.plugin_unsandboxed_timeout)
    raise Forbidden(f"unknown sandboxing level {level!r}")
