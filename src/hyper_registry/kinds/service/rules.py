"""Service rules beyond the spec model, and the relations a service spec implies."""

from __future__ import annotations

from collections.abc import Iterator

from hyper_registry.core.envelope import Document
from hyper_registry.core.errors import Problem
from hyper_registry.core.kind import ImpliedRelation, RuleContext
from hyper_registry.kinds.common import duplicates, unique_relations
from hyper_registry.kinds.service.spec import ServiceSpec


def no_repeats(spec: ServiceSpec, doc: Document, ctx: RuleContext) -> Iterator[Problem]:
    """An endpoint or a called service is listed once."""
    yield from duplicates(spec.endpoints, ("spec", "endpoints"), "endpoint")
    yield from duplicates(spec.calls, ("spec", "calls"), "service")


def health_check_fits(spec: ServiceSpec, doc: Document, ctx: RuleContext) -> Iterator[Problem]:
    """The timeout is below the interval, and there is an endpoint the check can probe."""
    check = spec.healthCheck
    if check is None:
        return
    loc = ("spec", "healthCheck")
    if check.timeout_seconds >= check.interval_seconds:
        yield Problem(
            (*loc, "timeout"),
            f"timeout {check.timeout} is not shorter than interval {check.interval}",
            "bad-health-check",
        )
    if not spec.endpoints:
        yield Problem(
            loc, "a health check needs an endpoint to probe; endpoints is empty", "bad-health-check"
        )
        return
    protocol = spec.health_protocol()
    if spec.health_target() is None:
        have = ", ".join(sorted({e.protocol for e in spec.parsed_endpoints}))
        yield Problem(
            (*loc, "protocol"),
            f"a {protocol} health check has no endpoint it can probe (endpoints are {have})",
            "bad-health-check",
        )
    if check.path is not None and protocol not in ("http", "https"):
        yield Problem(
            (*loc, "path"),
            f"path is only used by http and https checks; this check is {protocol}",
            "bad-health-check",
        )


def implied_relations(spec: ServiceSpec) -> Iterator[ImpliedRelation]:
    yield from unique_relations(
        ImpliedRelation("calls", target, ("spec", "calls", i))
        for i, target in enumerate(spec.calls)
    )
