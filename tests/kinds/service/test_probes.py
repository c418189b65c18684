"""Probes against real loopback servers: statuses, timeouts, body limit, redirects, TCP."""

from __future__ import annotations

import asyncio

import pytest

from hyper_registry.kinds.service.endpoint import parse_endpoint
from hyper_registry.kinds.service.probes import (
    MAX_BODY,
    Result,
    Target,
    http_status,
    make_client,
    probe,
)
from hyper_registry.kinds.service.ssrf import AddressPolicy

from .servers import HUGE, HealthServer, closed_port

LOOPBACK = AddressPolicy(allow_loopback=True)


def run(
    endpoint: str,
    path: str = "/",
    *,
    protocol: str | None = None,
    timeout: float = 1.0,
    policy: AddressPolicy = LOOPBACK,
) -> Result:
    ep = parse_endpoint(endpoint)
    target = Target("service:t/s@1.0.0", "t", protocol or ep.protocol, ep, path, 5.0, timeout)

    async def go() -> Result:
        async with make_client(4) as client:
            return await probe(client, target, policy)

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/ok", "passing", "HTTP 200"),
        ("/slow", "passing", "HTTP 200"),
        ("/fail", "critical", "HTTP 500"),
        ("/busy", "warning", "HTTP 503"),
        ("/limited", "warning", "HTTP 429"),
        ("/missing", "critical", "HTTP 404"),
    ],
)
def test_http_statuses(server: HealthServer, path: str, status: str, message: str) -> None:
    result = run(server.endpoint(), path)
    assert (result.status, result.message) == (status, message)
    assert result.latency_ms >= 0
    assert server.stats.hits[path] == 1


def test_status_mapping() -> None:
    assert [http_status(c) for c in (200, 204, 299)] == ["passing"] * 3
    assert [http_status(c) for c in (429, 503)] == ["warning"] * 2
    assert [http_status(c) for c in (301, 400, 404, 500, 502, 504)] == ["critical"] * 6


def test_flapping(server: HealthServer) -> None:
    assert [run(server.endpoint(), "/flap").status for _ in range(4)] == [
        "passing",
        "critical",
        "passing",
        "critical",
    ]


def test_redirect_to_metadata_is_never_followed(server: HealthServer) -> None:
    result = run(server.endpoint(), "/redirect")
    assert result.status == "critical"
    assert "HTTP 302 redirect to 'http://169.254.169.254/" in result.message
    assert "never followed" in result.message
    assert sum(server.stats.hits.values()) == 1  # one request, no second hop


@pytest.mark.parametrize("path", ["/hang", "/drip", "/drip-headers"])
def test_hanging_and_dripping_servers_time_out(server: HealthServer, path: str) -> None:
    result = run(server.endpoint(), path, timeout=0.3)
    assert result.status == "critical"
    assert result.message == "timed out after 300ms"


def test_a_huge_body_is_not_read(server: HealthServer) -> None:
    result = run(server.endpoint(), "/huge", timeout=5.0)
    assert (result.status, result.message) == ("passing", "HTTP 200")
    # the server stops when the client closes: far below the 1 GB it offered
    # (what it sent fills socket buffers; the probe itself reads at most MAX_BODY)
    server.close()
    assert server.stats.huge_sent < 64 * 1024 * 1024 < HUGE
    assert MAX_BODY == 4096


def test_host_header_keeps_the_name(server: HealthServer) -> None:
    result = run(f"http://localhost:{server.port}", "/ok")
    assert result.status == "passing"
    assert server.stats.hosts == [f"localhost:{server.port}"]


def test_loopback_refused_by_default(server: HealthServer) -> None:
    result = run(server.endpoint(), "/ok", policy=AddressPolicy())
    assert result.status == "critical"
    assert result.message.startswith("refused by the SSRF guard: ")
    assert server.stats.hits["/ok"] == 0


def test_tcp(server: HealthServer) -> None:
    ok = run(f"tcp://127.0.0.1:{server.port}")
    assert ok.status == "passing"
    assert ok.message == f"TCP connect to 127.0.0.1:{server.port} succeeded"
    refused = run(f"tcp://127.0.0.1:{closed_port()}")
    assert refused.status == "critical"
    assert refused.message.startswith("connection failed: ")


def test_grpc_falls_back_to_tcp_connect(server: HealthServer) -> None:
    result = run(f"grpc://127.0.0.1:{server.port}")
    assert result.status == "passing"
    assert "TCP connect only" in result.message


def test_unresolvable_name_is_critical() -> None:
    result = run("http://no-such-host.invalid:80", "/")
    assert result.status == "critical"
    assert "cannot resolve 'no-such-host.invalid'" in result.message


def test_https_to_a_plain_server_fails_cleanly(server: HealthServer) -> None:
    result = run(f"https://localhost:{server.port}", "/ok")
    assert result.status == "critical"
    assert "Traceback" not in result.message
