"""The SSRF guard: metadata and link-local addresses in every spelling, policy, schemes."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from hyper_registry.core.errors import Forbidden
from hyper_registry.kinds.service.ssrf import (
    AddressPolicy,
    always_refused,
    check_scheme,
    legacy_ipv4,
    literal_address,
    resolve,
)

from ..kindcheck import check

METADATA = ipaddress.IPv4Address("169.254.169.254")

SPELLINGS = [
    "169.254.169.254",
    "2852039166",  # decimal
    "0251.0376.0251.0376",  # octal
    "0xA9FEA9FE",  # hex
    "0xa9.0xfe.0xa9.0xfe",
    "169.254.43518",  # a.b.c16
    "169.16689662",  # a.b24
    "0251.254.169.254",
    "169.254.169.254.",
]
V6_SPELLINGS = [
    "::ffff:169.254.169.254",  # IPv4-mapped
    "::ffff:a9fe:a9fe",
    "[::ffff:169.254.169.254]",
    "::169.254.169.254",  # IPv4-compatible
    "64:ff9b::a9fe:a9fe",  # NAT64
    "2002:a9fe:a9fe::1",  # 6to4
    "fd00:ec2::254",  # AWS metadata over IPv6
    "fe80::1",  # link-local
]


@pytest.mark.parametrize("host", SPELLINGS)
def test_legacy_spellings_mean_the_metadata_address(host: str) -> None:
    assert legacy_ipv4(host) == METADATA


@pytest.mark.parametrize("host", SPELLINGS + V6_SPELLINGS + ["100.100.100.200", "0.0.0.0", "0"])
@pytest.mark.parametrize("loopback", [False, True])
def test_always_refused_whatever_the_policy(host: str, loopback: bool) -> None:
    assert always_refused(host) is not None
    policy = AddressPolicy(allow_loopback=loopback, allow_private=True)
    with pytest.raises(Forbidden) as info:
        asyncio.run(resolve(host, 80, policy))
    assert "never reach" in str(info.value)


@pytest.mark.parametrize("host", ["example", "api.example.com", "0xcafe.example", "1e5"])
def test_names_are_not_literals(host: str) -> None:
    assert literal_address(host) is None


@pytest.mark.parametrize(
    ("host", "allowed_by_default", "policy", "allowed"),
    [
        ("127.0.0.1", False, AddressPolicy(allow_loopback=True), True),
        ("0x7f.1", False, AddressPolicy(allow_loopback=True), True),  # 127.0.0.1
        ("::1", False, AddressPolicy(allow_loopback=True), True),
        ("::ffff:127.0.0.1", False, AddressPolicy(allow_loopback=True), True),
        ("10.1.2.3", True, AddressPolicy(allow_private=False), False),
        ("192.168.1.1", True, AddressPolicy(allow_private=False), False),
        ("fd12::1", True, AddressPolicy(allow_private=False), False),
        ("8.8.8.8", True, AddressPolicy(allow_private=False), True),
    ],
)
def test_loopback_and_private_follow_the_policy(
    host: str, allowed_by_default: bool, policy: AddressPolicy, allowed: bool
) -> None:
    def ok(p: AddressPolicy) -> bool:
        try:
            asyncio.run(resolve(host, 80, p))
        except Forbidden:
            return False
        return True

    assert ok(AddressPolicy()) is allowed_by_default
    assert ok(policy) is allowed


def test_a_name_is_resolved_and_its_addresses_judged() -> None:
    with pytest.raises(Forbidden, match="loopback"):
        asyncio.run(resolve("localhost", 80, AddressPolicy()))
    address = asyncio.run(resolve("localhost", 80, AddressPolicy(allow_loopback=True)))
    assert address.is_loopback


@pytest.mark.parametrize("scheme", ["ftp", "file", "gopher", "ws", "HTTP"])
def test_only_four_schemes(scheme: str) -> None:
    with pytest.raises(Forbidden, match="not allowed"):
        check_scheme(scheme)
    for good in ("http", "https", "tcp", "grpc"):
        check_scheme(good)


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://169.254.169.254:80",
        "http://0xA9FEA9FE:80",
        "http://0xa9.0xfe.0xa9.0xfe:80",
        "http://[::ffff:169.254.169.254]:80",
        "http://[fd00:ec2::254]:80",
        "tcp://[fe80::1]:22",
        "grpc://0.0.0.0:9090",
    ],
)
def test_registration_refuses_metadata_endpoints(endpoint: str) -> None:
    problems = check("service", {"endpoints": [endpoint]})
    assert len(problems) == 1
    assert problems[0].path == "spec.endpoints[0]"
    assert "never reach" in problems[0].message


@pytest.mark.parametrize("endpoint", ["http://2852039166:80", "http://0251.0376.0251.0376:80"])
def test_registration_refuses_numeric_spellings(endpoint: str) -> None:
    problems = check("service", {"endpoints": [endpoint]})
    assert [p.path for p in problems] == ["spec.endpoints[0]"]
    assert "not a valid IPv4 address" in problems[0].message
