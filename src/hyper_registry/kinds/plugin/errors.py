"""Why a plugin run failed: domain errors (422 problem documents, CLI exit code 2).

| error | code | when |
| --- | --- | --- |
| PluginTrap | ``plugin-trap`` | the module trapped (``unreachable``, out-of-bounds access, division by zero, ...) |
| PluginFuel | ``plugin-fuel`` | the run used all its fuel (a runaway loop under ``strict``/``relaxed``) |
| PluginTimeout | ``plugin-timeout`` | the run passed its wall-clock limit (epoch interruption) |
| PluginMemory | ``plugin-memory`` | the module needed more linear memory than its limit |
| PluginStack | ``plugin-stack`` | the wasm call stack overflowed (deep recursion) |
| PluginNotRunnable | ``plugin-not-runnable`` | the module imports what the sandbox does not provide |
"""

from __future__ import annotations

from hyper_registry.core.errors import Invalid, Problem


class PluginRunError(Invalid):
    code = "plugin-trap"
    title = "Plugin run failed"

    def __init__(self, message: str) -> None:
        super().__init__(message, problems=[Problem((), message, self.code)])


class PluginTrap(PluginRunError):
    code = "plugin-trap"


class PluginFuel(PluginRunError):
    code = "plugin-fuel"


class PluginTimeout(PluginRunError):
    code = "plugin-timeout"


class PluginMemory(PluginRunError):
    code = "plugin-memory"


class PluginStack(PluginRunError):
    code = "plugin-stack"


class PluginNotRunnable(PluginRunError):
    code = "plugin-not-runnable"
    title = "Plugin not runnable"
