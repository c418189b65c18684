"""Service endpoints: ``protocol://host:port[/path]``."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal, get_args
from urllib.parse import urlsplit

from hyper_registry.kinds.service.ssrf import always_refused

Protocol = Literal["http", "https", "grpc", "tcp"]
PROTOCOLS: tuple[str, ...] = get_args(Protocol)

ENDPOINT_MAX = 2048
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")
_IPV4ISH = re.compile(r"[0-9.]+")


@dataclass(frozen=True)
class Endpoint:
    protocol: str
    host: str
    port: int
    path: str = ""

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.protocol}://{host}:{self.port}{self.path}"


def host_problem(host: str) -> str | None:
    """Why ``host`` is neither an IP address nor a DNS name, or None when it is one."""
    if not host:
        return "has no host"
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return f"host {host!r} is not a valid IPv6 address"
        return None
    if _IPV4ISH.fullmatch(host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return f"host {host!r} is not a valid IPv4 address"
        return None
    name = host[:-1] if host.endswith(".") else host
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return (
            f"host {host!r} is not a valid DNS name (labels of letters, digits and '-', "
            "at most 63 characters each) or IP address"
        )
    if labels[-1].isdigit():
        return f"host {host!r} is not a valid DNS name: the last label is all digits"
    return None


def parse_endpoint(text: str) -> Endpoint:
    """Parse ``protocol://host:port[/path]``; raises ``ValueError`` with the reason."""
    if len(text) > ENDPOINT_MAX:
        raise ValueError(f"is longer than {ENDPOINT_MAX} characters")
    if _CONTROL.search(text):
        raise ValueError("contains whitespace or control characters")
    if "://" not in text:
        raise ValueError("must look like protocol://host:port[/path]")
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise ValueError(f"is not a valid URL ({exc})") from None
    protocol = parts.scheme
    if protocol not in PROTOCOLS:
        raise ValueError(f"has protocol {protocol!r}; use one of: {', '.join(PROTOCOLS)}")
    netloc = parts.netloc
    if "@" in netloc:
        raise ValueError("must not contain credentials (user@ or user:password@)")
    if netloc.startswith("["):
        host, _, rest = netloc[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise ValueError("has text between the IPv6 address and the port")
        port_text = rest[1:] if rest else None
    else:
        host, colon, port_text_or_empty = netloc.partition(":")
        port_text = port_text_or_empty if colon else None
    problem = host_problem(host)
    if problem:
        raise ValueError(problem)
    never = always_refused(host)
    if never:
        raise ValueError(f"has host {host!r}: {never}")
    if not port_text:
        raise ValueError("needs a port (protocol://host:port)")
    if not (port_text.isascii() and port_text.isdigit()) or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"has port {port_text!r}; a port is a number from 1 to 65535")
    port = int(port_text)
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ValueError("must not have a query or a fragment")
    if parts.path and protocol not in ("http", "https"):
        raise ValueError(f"must not have a path: {protocol} endpoints are host:port only")
    return Endpoint(protocol, host, port, parts.path)


def probes(check_protocol: str, endpoint_protocol: str) -> bool:
    """Whether a ``check_protocol`` health check can probe an ``endpoint_protocol`` endpoint."""
    if check_protocol == "tcp":
        return True
    if check_protocol == "http":
        return endpoint_protocol in ("http", "https")
    return check_protocol == endpoint_protocol
