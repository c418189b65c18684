"""A service's health report: current state, availability vs SLA, recent results, dependents."""

from __future__ import annotations

import time
from typing import Any

from hyper_registry.core.errors import HyperRegistryError, Invalid
from hyper_registry.core.ref import Ref
from hyper_registry.core.registry import Registry
from hyper_registry.kinds.service import history
from hyper_registry.kinds.service.probes import target_of
from hyper_registry.kinds.service.spec import ServiceSpec

MAX_HISTORY = 1000


def health_report(
    registry: Registry,
    ref: Ref | str,
    *,
    limit: int = 20,
    namespaces: list[str] | None = None,
) -> dict[str, Any]:
    """The health of one service version (the latest when ``ref`` names none)."""
    if not 0 <= limit <= MAX_HISTORY:
        raise Invalid.at(("limit",), f"limit must be between 0 and {MAX_HISTORY}, got {limit}")
    entry = registry.get(ref)
    if entry.kind != "service":
        raise Invalid.at(("ref",), f"{entry.ref} is a {entry.kind}, not a service")
    exact = str(entry.ref)
    spec = ServiceSpec.model_validate(entry.spec)
    target = target_of(entry)
    engine = registry.store.engine
    sla = spec.sla.availability if spec.sla else None
    try:
        hits = registry.dependents(exact, namespaces=namespaces)
    except HyperRegistryError:
        hits = []
    check = None
    if target is not None:
        assert spec.healthCheck is not None
        check = {
            "protocol": target.protocol,
            "endpoint": str(target.endpoint),
            "path": target.path if target.protocol in ("http", "https") else None,
            "interval": spec.healthCheck.interval,
            "timeout": spec.healthCheck.timeout,
        }
    return {
        "ref": exact,
        "healthCheck": check,
        "current": history.current_state(engine, exact),
        "sla": {"availability": sla} if sla is not None else None,
        "availability": history.availability(engine, exact, sla, time.time()),
        "history": history.recent(engine, exact, limit=limit) if limit else [],
        "dependents": sorted({str(h.ref) for h in hits}),
    }
