"""Health probes: HTTP(S) GET, TCP connect, and what a service's spec asks to probe.

Every probe goes through the SSRF guard (:mod:`.ssrf`): the host is resolved once and
the connection goes to the validated address. HTTP keeps the service's name in the
``Host`` header and in TLS SNI (so certificates are still checked against the name),
never follows a redirect, reads at most :data:`MAX_BODY` bytes of the body, and the
whole probe (resolve, connect, headers, body) must finish within the timeout, so a
server that hangs or drips bytes is cut off.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from dataclasses import dataclass
from typing import Literal

from hyper_registry.core.envelope import Entry
from hyper_registry.core.errors import Forbidden, Unavailable
from hyper_registry.kinds.service.duration import format_seconds
from hyper_registry.kinds.service.endpoint import Endpoint
from hyper_registry.kinds.service.spec import ServiceSpec
from hyper_registry.kinds.service.ssrf import AddressPolicy, IPAddress, check_scheme, resolve
from hyper_registry.kinds.service.transport import ERRORS as TRANSPORT_ERRORS
from hyper_registry.kinds.service.transport import HttpProber

Status = Literal["passing", "warning", "critical"]
STATUSES: tuple[str, ...] = ("passing", "warning", "critical")
MAX_BODY = 4096
MESSAGE_MAX = 300
WARNING_CODES = frozenset({429, 503})
USER_AGENT = "hyper-registry-health-checker"
PROBE_ERRORS: tuple[type[Exception], ...] = TRANSPORT_ERRORS


@dataclass(frozen=True)
class Target:
    """What to probe for one service entry, and how often."""

    ref: str
    namespace: str
    protocol: str  # the check's protocol: http, https, tcp or grpc
    endpoint: Endpoint
    path: str
    interval: float
    timeout: float


@dataclass(frozen=True)
class Result:
    status: Status
    latency_ms: float
    message: str


def target_of(entry: Entry, interval_override: float | None = None) -> Target | None:
    """The probe a service entry asks for, or None when it has no health check."""
    if entry.kind != "service":
        return None
    try:
        spec = ServiceSpec.model_validate(entry.spec)
    except ValueError:  # stored specs were validated; a newer rule may refuse an old one
        return None
    check, endpoint, protocol = spec.healthCheck, spec.health_target(), spec.health_protocol()
    if check is None or endpoint is None or protocol is None:
        return None
    interval = interval_override or check.interval_seconds
    return Target(
        ref=str(entry.ref),
        namespace=entry.metadata.namespace,
        protocol=protocol,
        endpoint=endpoint,
        path=check.path or endpoint.path or "/",
        interval=interval,
        timeout=min(check.timeout_seconds, interval),
    )


def _short(text: str) -> str:
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= MESSAGE_MAX else text[: MESSAGE_MAX - 3] + "..."


def http_status(code: int) -> Status:
    if 200 <= code < 300:
        return "passing"
    return "warning" if code in WARNING_CODES else "critical"


def make_client(concurrency: int) -> HttpProber:
    """The one HTTP prober of a checker: no proxies, no redirects, no pool (each check opens
    its own connection to its own validated address); concurrency is bounded by the
    checker's semaphore."""
    return HttpProber(ssl.create_default_context())


def _url_host(address: IPAddress) -> str:
    return f"[{address}]" if address.version == 6 else str(address)


async def _http(
    client: HttpProber, target: Target, policy: AddressPolicy, started: float
) -> tuple[Status, str, float]:
    ep = target.endpoint
    scheme = ep.protocol if ep.protocol in ("http", "https") else target.protocol
    check_scheme(scheme)
    address = await resolve(ep.host, ep.port, policy)
    default_port = 443 if scheme == "https" else 80
    host_header = ep.host if ":" not in ep.host else f"[{ep.host}]"
    if ep.port != default_port:
        host_header += f":{ep.port}"
    reply = await client.get(
        str(address),
        ep.port,
        tls_name=ep.host if scheme == "https" else None,
        target=target.path,
        headers=[
            ("Host", host_header),
            ("User-Agent", USER_AGENT),
            ("Accept", "*/*"),
            ("Connection", "close"),
        ],
        max_body=MAX_BODY,
    )
    latency = (time.perf_counter() - started) * 1000
    code = reply.status
    message = f"HTTP {code}"
    if 300 <= code < 400:
        message += f" redirect to {reply.location!r} (redirects are never followed)"
    return http_status(code), message, latency


async def _tcp(target: Target, policy: AddressPolicy, started: float) -> tuple[Status, str, float]:
    ep = target.endpoint
    check_scheme(ep.protocol)
    address = await resolve(ep.host, ep.port, policy)
    _reader, writer = await asyncio.open_connection(str(address), ep.port)
    latency = (time.perf_counter() - started) * 1000
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    note = (
        " (gRPC health protocol not supported: TCP connect only)"
        if target.protocol == "grpc"
        else ""
    )
    return "passing", f"TCP connect to {ep.host}:{ep.port} succeeded{note}", latency


async def probe(client: HttpProber, target: Target, policy: AddressPolicy) -> Result:
    """Probe ``target`` once; never raises (a failure is a critical result)."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(target.timeout):
            if target.protocol in ("http", "https"):
                status, message, latency = await _http(client, target, policy, started)
            else:
                status, message, latency = await _tcp(target, policy, started)
        return Result(status, round(latency, 3), _short(message))
    except TimeoutError:
        message = f"timed out after {format_seconds(target.timeout)}"
    except Forbidden as exc:
        message = f"refused by the SSRF guard: {exc}"
    except Unavailable as exc:
        message = str(exc)
    except PROBE_ERRORS as exc:
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    except OSError as exc:
        message = f"connection failed: {exc.strerror or exc}"
    latency = (time.perf_counter() - started) * 1000
    return Result("critical", round(latency, 3), _short(message))
