"""The SSRF guard: which addresses a health check may reach, and resolving a host once.

Every outbound check resolves its host once, validates every address the name
resolves to, and connects to the validated address (never to the name again, so a
second DNS answer cannot swap in another address).

Always refused, whatever the configuration: link-local and cloud metadata
addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254, 100.100.100.200), the
unspecified and "this network" addresses (0.0.0.0/8, ::), multicast, broadcast and
reserved ranges, and any of these embedded in IPv6 (IPv4-mapped ``::ffff:a.b.c.d``,
IPv4-compatible ``::a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``). Numeric
hosts in legacy spellings (``2852039166``, ``0xA9FEA9FE``, ``0251.0376.0251.0376``,
``169.254.43518``) are read the way ``inet_aton`` reads them, so they are judged by the
address they mean. Loopback and private ranges follow :class:`AddressPolicy`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

from hyper_registry.core.errors import Forbidden, Unavailable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES = ("http", "https", "tcp", "grpc")

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

ALWAYS_REFUSED: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
    _V4("169.254.0.0/16"),  # link-local: the AWS/GCP/Azure/OpenStack metadata service
    _V4("100.100.100.200/32"),  # Alibaba Cloud metadata
    _V4("0.0.0.0/8"),  # "this network": 0.0.0.0 reaches the local host on Linux
    _V4("224.0.0.0/4"),  # multicast
    _V4("240.0.0.0/4"),  # reserved, and 255.255.255.255 broadcast
    _V4("192.0.0.0/24"),  # IETF protocol assignments
    _V6("fe80::/10"),  # link-local
    _V6("fd00:ec2::254/128"),  # AWS metadata over IPv6
    _V6("::/128"),  # unspecified
    _V6("ff00::/8"),  # multicast
)
LOOPBACK: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
    _V4("127.0.0.0/8"),
    _V6("::1/128"),
)
PRIVATE: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
    _V4("10.0.0.0/8"),
    _V4("172.16.0.0/12"),
    _V4("192.168.0.0/16"),
    _V4("100.64.0.0/10"),  # carrier-grade NAT, used inside clouds
    _V4("198.18.0.0/15"),  # benchmarking networks
    _V6("fc00::/7"),  # unique local
)
_NAT64 = _V6("64:ff9b::/96")
_SIX_TO_FOUR = _V6("2002::/16")
_V4_COMPAT = _V6("::/96")


@dataclass(frozen=True)
class AddressPolicy:
    """What a checker may reach besides public addresses."""

    allow_loopback: bool = False
    allow_private: bool = True


def legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address ``host`` means to ``inet_aton`` (1 to 4 parts, decimal/octal/hex).

    ``2852039166``, ``0xA9FEA9FE``, ``0251.0376.0251.0376`` and ``169.254.43518`` all
    mean 169.254.169.254. None when ``host`` is not a numeric IPv4 spelling.
    """
    text = host[:-1] if host.endswith(".") else host
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        try:
            if part[:2].lower() == "0x":
                values.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                values.append(int(part[1:], 8))
            elif part.isdigit() and part.isascii():
                values.append(int(part))
            else:
                return None
        except ValueError:
            return None
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        return None
    number = last
    for i, v in enumerate(head):
        number |= v << (8 * (3 - i))
    return ipaddress.IPv4Address(number)


def literal_address(host: str) -> IPAddress | None:
    """The address a host literal means (IPv6, dotted IPv4 or a legacy spelling), or None."""
    text = host.strip("[]")
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            return None
    return legacy_ipv4(text)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _V4_COMPAT and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: IPAddress, policy: AddressPolicy) -> str | None:
    """Why a check may not connect to ``address``, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            why = refusal(inner, policy)
            return f"{why} (embedded in {address})" if why else None
    if any(address in net for net in ALWAYS_REFUSED):
        kind = (
            "a link-local or cloud metadata address"
            if address.is_link_local or str(address) in ("100.100.100.200", "fd00:ec2::254")
            else "a reserved, multicast or unspecified address"
        )
        return f"{address} is {kind}; health checks never reach it"
    if any(address in net for net in LOOPBACK):
        if not policy.allow_loopback:
            return f"{address} is a loopback address and checker_allow_loopback is off"
        return None
    if any(address in net for net in PRIVATE):
        if not policy.allow_private:
            return f"{address} is a private address and checker_allow_private is off"
        return None
    if address.is_reserved or address.is_multicast or address.is_unspecified:
        return f"{address} is a reserved address; health checks never reach it"
    return None


def always_refused(host: str) -> str | None:
    """Why ``host`` (a literal in any spelling) is never reachable; None for names."""
    address = literal_address(host)
    if address is None:
        return None
    return refusal(address, AddressPolicy(allow_loopback=True, allow_private=True))


def check_scheme(scheme: str) -> None:
    if scheme not in SCHEMES:
        raise Forbidden(f"scheme {scheme!r} is not allowed; use one of: {', '.join(SCHEMES)}")


async def resolve(host: str, port: int, policy: AddressPolicy) -> IPAddress:
    """Resolve ``host`` once and return the first address the policy allows.

    A name with any address that is always refused is refused as a whole (a name that
    mixes a public address with the metadata address is hostile). Raises Forbidden when
    no address is allowed, Unavailable when the name does not resolve.
    """
    literal = literal_address(host)
    if literal is not None:
        candidates: list[IPAddress] = [literal]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise Unavailable(f"cannot resolve {host!r}: {exc}") from None
        candidates = []
        for info in infos:
            text = str(info[4][0]).split("%", 1)[0]
            addr = ipaddress.ip_address(text)
            if addr not in candidates:
                candidates.append(addr)
        if not candidates:
            raise Unavailable(f"{host!r} resolves to no address")
    reasons = [(a, refusal(a, policy)) for a in candidates]
    for addr, why in reasons:
        if why is not None and always_refused(str(addr)) is not None:
            raise Forbidden(f"{host} resolves to {why}")
    for addr, why in reasons:
        if why is None:
            return addr
    raise Forbidden(f"{host}: {reasons[0][1]}")
