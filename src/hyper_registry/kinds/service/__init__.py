"""The ``service`` kind: network services with endpoints, health checks and an SLA."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hyper_registry.core.envelope import Entry
from hyper_registry.core.kind import KindSpec
from hyper_registry.kinds.service.duration import parse_duration
from hyper_registry.kinds.service.endpoint import Endpoint, parse_endpoint
from hyper_registry.kinds.service.rules import health_check_fits, implied_relations, no_repeats
from hyper_registry.kinds.service.spec import HealthCheck, ServiceSpec

if TYPE_CHECKING:
    from hyper_registry.core.registry import Registry


def _unregistered(registry: Registry, entry: Entry) -> None:
    """Stop health checks of an unregistered service at once (see ``checker.py``)."""
    from hyper_registry.kinds.service.checker import on_unregistered

    on_unregistered(registry, entry)


KIND = KindSpec(
    name="service",
    spec_model=ServiceSpec,
    description="A network service: endpoints, health check, SLA, mesh and the services it calls.",
    versioning="semver",
    rules=(no_repeats, health_check_fits),
    implied_relations=implied_relations,
    on_unregistered=_unregistered,
)

__all__ = ["KIND", "Endpoint", "HealthCheck", "ServiceSpec", "parse_duration", "parse_endpoint"]
