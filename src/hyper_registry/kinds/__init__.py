"""The built-in kinds. Each kind is data: a :class:`~hyper_registry.core.kind.KindSpec`."""

from __future__ import annotations

from hyper_registry.core.kind import KindSpec
from hyper_registry.kinds import dataset, infra, model, plugin, security, service


def builtin_kinds() -> list[KindSpec]:
    """The six kinds the registry ships with, in a stable order."""
    return [plugin.KIND, service.KIND, model.KIND, dataset.KIND, infra.KIND, security.KIND]


__all__ = ["builtin_kinds"]
