"""The service kind: endpoints, health check, SLA, mesh and calls."""

from __future__ import annotations

from typing import Any

import pytest

from hyper_registry.core.kind import ImpliedRelation
from hyper_registry.core.ref import Ref
from hyper_registry.kinds.service import KIND, ServiceSpec, parse_duration, parse_endpoint
from hyper_registry.kinds.service.duration import format_seconds

from .kindcheck import check, only

EP = "https://api.example.com:8443"


def spec(**fields: Any) -> dict[str, Any]:
    return {"endpoints": [EP], **fields}


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://orders:8080",
        "https://api.example.com:443/v1/",
        "grpc://orders.shop.svc.cluster.local:9090",
        "tcp://10.0.0.7:5432",
        "https://[2001:db8::1]:8443/healthz",
        "http://localhost:80",
        "https://fqdn.example.com.:443",
    ],
)
def test_endpoints_accepted(endpoint: str) -> None:
    assert check("service", {"endpoints": [endpoint]}) == []


@pytest.mark.parametrize(
    ("endpoint", "reason"),
    [
        ("orders:8080", "must look like protocol://host:port[/path]"),
        ("ftp://files:21", "has protocol 'ftp'; use one of: http, https, grpc, tcp"),
        ("http://orders", "needs a port (protocol://host:port)"),
        ("http://orders:0", "has port '0'; a port is a number from 1 to 65535"),
        ("http://orders:65536", "has port '65536'; a port is a number from 1 to 65535"),
        ("http://orders:http", "has port 'http'; a port is a number from 1 to 65535"),
        ("http://:80", "has no host"),
        ("http://999.1.1.1:80", "host '999.1.1.1' is not a valid IPv4 address"),
        (
            "http://[::zz]:80",
            "is not a valid URL ('::zz' does not appear to be an IPv4 or IPv6 address)",
        ),
        ("http://[::1]x:80", "has text between the IPv6 address and the port"),
        (
            "http://bad_host:80",
            "host 'bad_host' is not a valid DNS name (labels of letters, digits and '-', "
            "at most 63 characters each) or IP address",
        ),
        (
            "http://example.123:80",
            "host 'example.123' is not a valid DNS name: the last label is all digits",
        ),
        ("http://admin:secret@orders:80", "must not contain credentials (user@ or user:password@)"),
        ("http://orders:80/x?debug=1", "must not have a query or a fragment"),
        ("tcp://db:5432/postgres", "must not have a path: tcp endpoints are host:port only"),
        ("http://orders :80", "contains whitespace or control characters"),
    ],
)
def test_endpoints_refused(endpoint: str, reason: str) -> None:
    assert only(check("service", {"endpoints": [EP, endpoint]})) == (
        "spec.endpoints[1]",
        f"endpoint {endpoint!r} {reason}",
    )


def test_endpoint_parsing() -> None:
    ep = parse_endpoint("https://[2001:db8::1]:8443/v1")
    assert (ep.protocol, ep.host, ep.port, ep.path) == ("https", "2001:db8::1", 8443, "/v1")
    assert str(ep) == "https://[2001:db8::1]:8443/v1"
    with pytest.raises(ValueError, match="needs a port"):
        parse_endpoint("grpc://orders")


def test_repeated_endpoint_refused() -> None:
    assert only(check("service", {"endpoints": [EP, "grpc://a:1", EP]})) == (
        "spec.endpoints[2]",
        f"endpoint {EP!r} is listed twice (first at spec.endpoints[0])",
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30.0), ("5m", 300.0), ("1h", 3600.0), ("250ms", 0.25), ("1m30s", 90.0), ("1.5s", 1.5)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["30", "s", "", "-5s", "5 s", "1d", "5s1m", "1h1h", "5S"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_format_seconds() -> None:
    assert [format_seconds(s) for s in (0.25, 1, 30, 90, 300, 7200)] == [
        "250ms",
        "1s",
        "30s",
        "90s",
        "5m",
        "2h",
    ]


def test_health_check_defaults_and_seconds() -> None:
    svc = ServiceSpec.model_validate(spec(healthCheck={"path": "/healthz"}))
    assert svc.healthCheck is not None
    assert (svc.healthCheck.interval, svc.healthCheck.timeout) == ("30s", "5s")
    assert (svc.healthCheck.interval_seconds, svc.healthCheck.timeout_seconds) == (30.0, 5.0)
    assert svc.health_protocol() == "https"  # from the first endpoint
    # The stored spec keeps the user's text.
    assert svc.model_dump(exclude_none=True)["healthCheck"] == {
        "path": "/healthz",
        "interval": "30s",
        "timeout": "5s",
    }


def test_health_check_accepted() -> None:
    hc = {"protocol": "tcp", "interval": "1m", "timeout": "250ms"}
    assert check("service", spec(healthCheck=hc)) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "interval",
            "30",
            "interval '30' is not a duration: use a number and a unit (ms, s, m, h), "
            "like 250ms, 30s, 5m, 1h or 1m30s",
        ),
        ("interval", "4s", "interval 4s is shorter than the minimum 5s"),
        ("interval", "25h", "interval 25h is longer than the maximum 24h"),
        ("timeout", "0s", "timeout 0s is shorter than the minimum 1ms"),
        ("path", "healthz", "path 'healthz' must start with '/' and contain no whitespace"),
        ("protocol", "udp", "protocol 'udp' is not one of: http, https, grpc, tcp"),
    ],
)
def test_health_check_fields_refused(field: str, value: str, message: str) -> None:
    assert only(check("service", spec(healthCheck={field: value}))) == (
        f"spec.healthCheck.{field}",
        message,
    )


def test_timeout_must_be_below_interval() -> None:
    assert only(check("service", spec(healthCheck={"interval": "10s", "timeout": "10s"}))) == (
        "spec.healthCheck.timeout",
        "timeout 10s is not shorter than interval 10s",
    )
    assert only(check("service", spec(healthCheck={"interval": "1m", "timeout": "2m"})))[0] == (
        "spec.healthCheck.timeout"
    )
    assert check("service", spec(healthCheck={"interval": "1m", "timeout": "59s"})) == []


def test_health_check_needs_an_endpoint() -> None:
    assert only(check("service", {"healthCheck": {}})) == (
        "spec.healthCheck",
        "a health check needs an endpoint to probe; endpoints is empty",
    )


def test_health_check_protocol_needs_a_matching_endpoint() -> None:
    hc = {"protocol": "grpc"}
    assert only(check("service", {"endpoints": [EP, "tcp://db:5432"], "healthCheck": hc})) == (
        "spec.healthCheck.protocol",
        "a grpc health check has no endpoint it can probe (endpoints are https, tcp)",
    )
    # an http check probes an https endpoint; a tcp check probes anything
    assert check("service", spec(healthCheck={"protocol": "http"})) == []
    assert check("service", spec(healthCheck={"protocol": "tcp"})) == []
    svc = ServiceSpec.model_validate(
        {"endpoints": ["grpc://a:9090", "http://a:8080"], "healthCheck": {"protocol": "http"}}
    )
    assert str(svc.health_target()) == "http://a:8080"


def test_path_only_for_http_checks() -> None:
    hc = {"protocol": "tcp", "path": "/healthz"}
    assert only(check("service", spec(healthCheck=hc))) == (
        "spec.healthCheck.path",
        "path is only used by http and https checks; this check is tcp",
    )


@pytest.mark.parametrize("availability", [99.95, 100, 0.5])
def test_sla_accepted(availability: float) -> None:
    assert check("service", spec(sla={"availability": availability})) == []


@pytest.mark.parametrize(
    ("availability", "message"),
    [
        (0, "Input should be greater than 0"),
        (100.5, "Input should be less than or equal to 100"),
        ("99.9", "Input should be a valid number"),
    ],
)
def test_sla_refused(availability: Any, message: str) -> None:
    assert only(check("service", spec(sla={"availability": availability}))) == (
        "spec.sla.availability",
        message,
    )


def test_mesh() -> None:
    assert check("service", spec(mesh={"enabled": True, "provider": "istio", "mtls": True})) == []
    assert only(check("service", spec(mesh={"enabled": "yes"}))) == (
        "spec.mesh.enabled",
        "Input should be a valid boolean",
    )
    assert only(check("service", spec(mesh={"provider": "Istio"})))[0] == "spec.mesh.provider"


def test_calls_imply_relations() -> None:
    svc = ServiceSpec.model_validate(
        spec(calls=["service:shop/orders", "service:shop/catalogue@2.0.0"])
    )
    assert KIND.relations_of(svc) == [
        ImpliedRelation("calls", Ref("service", "shop", "orders"), ("spec", "calls", 0)),
        ImpliedRelation(
            "calls", Ref("service", "shop", "catalogue", "2.0.0"), ("spec", "calls", 1)
        ),
    ]


def test_calls_must_be_services() -> None:
    assert only(check("service", spec(calls=["model:shop/detector"]))) == (
        "spec.calls[0]",
        "reference 'model:shop/detector' must point at a service, not a model",
    )
    assert only(check("service", spec(calls=["orders"])))[0] == "spec.calls[0]"


def test_repeated_call_refused() -> None:
    calls = ["service:shop/orders", "service:shop/orders"]
    assert only(check("service", spec(calls=calls))) == (
        "spec.calls[1]",
        "service 'service:shop/orders' is listed twice (first at spec.calls[0])",
    )


def test_unknown_fields_refused() -> None:
    assert only(check("service", spec(port=80))) == ("spec.port", "Extra inputs are not permitted")
