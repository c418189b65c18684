"""The service kind's spec: endpoints, health check, SLA, mesh and the services it calls."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StrictBool

from hyper_registry.core.envelope import Strict
from hyper_registry.core.ref import Ref
from hyper_registry.kinds.common import choice, invalid, named, ref_to
from hyper_registry.kinds.service.duration import duration_check, parse_duration
from hyper_registry.kinds.service.endpoint import Endpoint, Protocol, parse_endpoint, probes

MAX_ENDPOINTS = 64
MIN_INTERVAL = 5.0  # seconds; tests go lower only through Settings.checker_test_interval


def _endpoint(value: str) -> str:
    try:
        parse_endpoint(value)
    except ValueError as exc:
        raise invalid("bad-endpoint", f"endpoint {value!r} {exc}") from None
    return value


def _health_path(value: str) -> str:
    if not value.startswith("/") or any(c.isspace() or ord(c) < 32 for c in value):
        raise invalid("bad-path", f"path {value!r} must start with '/' and contain no whitespace")
    return value


EndpointText = Annotated[str, AfterValidator(_endpoint)]
ServiceRef = Annotated[Ref, ref_to("service")]


class HealthCheck(Strict):
    """An active check; without a protocol it uses the first endpoint's protocol."""

    protocol: Annotated[Protocol, choice("protocol", Protocol)] | None = None
    path: Annotated[str, Field(max_length=2048), AfterValidator(_health_path)] | None = None
    interval: Annotated[str, AfterValidator(duration_check("interval", MIN_INTERVAL, 86400.0))] = (
        "30s"
    )
    timeout: Annotated[str, AfterValidator(duration_check("timeout", 0.001, 3600.0))] = "5s"

    @property
    def interval_seconds(self) -> float:
        return parse_duration(self.interval)

    @property
    def timeout_seconds(self) -> float:
        return parse_duration(self.timeout)


class Sla(Strict):
    availability: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=100)] = Field(
        description="promised availability in percent, like 99.95"
    )


class Mesh(Strict):
    enabled: StrictBool = False
    provider: Annotated[str, named("provider", 63)] | None = None
    mtls: StrictBool = False


class ServiceSpec(Strict):
    endpoints: list[EndpointText] = Field(default_factory=list, max_length=MAX_ENDPOINTS)
    healthCheck: HealthCheck | None = None
    sla: Sla | None = None
    mesh: Mesh | None = None
    calls: list[ServiceRef] = Field(default_factory=list, max_length=1000)

    @property
    def parsed_endpoints(self) -> list[Endpoint]:
        return [parse_endpoint(e) for e in self.endpoints]

    def health_protocol(self) -> str | None:
        """The health check's protocol: its own, or else the first endpoint's."""
        if self.healthCheck is None:
            return None
        if self.healthCheck.protocol is not None:
            return self.healthCheck.protocol
        endpoints = self.parsed_endpoints
        return endpoints[0].protocol if endpoints else None

    def health_target(self) -> Endpoint | None:
        """The endpoint the health check probes: the first one its protocol can reach."""
        protocol = self.health_protocol()
        if protocol is None:
            return None
        return next((e for e in self.parsed_endpoints if probes(protocol, e.protocol)), None)
