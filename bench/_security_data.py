"""Generated OSV-shaped advisories and CycloneDX SBOMs for the security benchmarks.

Deterministic (seeded). Packages come from six ecosystems (npm, PyPI, Maven, Go,
crates.io, RubyGems) with their own name shapes; advisories carry SEMVER or ECOSYSTEM
ranges (introduced/fixed, sometimes last_affected or an explicit version list), aliases
and a CVSS 3.1 vector, as OSV records do. SBOM components are drawn from the same package
pool at versions that are sometimes inside an advisory's range.
"""

from __future__ import annotations

import random
from typing import Any

import orjson

ECOSYSTEMS = (
    ("npm", "npm"),
    ("PyPI", "pypi"),
    ("Maven", "maven"),
    ("Go", "golang"),
    ("crates.io", "cargo"),
    ("RubyGems", "gem"),
)
VECTORS = (
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N",
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N",
)


def package(eco: str, i: int) -> tuple[str, str | None, str]:
    """(OSV name, purl namespace, purl name) of package ``i`` of an ecosystem."""
    if eco == "Maven":
        return f"org.example{i % 97}:lib{i}", f"org.example{i % 97}", f"lib{i}"
    if eco == "Go":
        return f"github.com/org{i % 89}/mod{i}", f"github.com/org{i % 89}", f"mod{i}"
    if eco == "npm" and i % 5 == 0:
        return f"@scope{i % 31}/pkg{i}", f"@scope{i % 31}", f"pkg{i}"
    return f"pkg{i}", None, f"pkg{i}"


def purl(eco_index: int, i: int, version: str) -> str:
    eco, ptype = ECOSYSTEMS[eco_index]
    _, ns, name = package(eco, i)
    ns_part = f"{ns.replace('@', '%40')}/" if ns else ""
    v = f"v{version}" if ptype == "golang" else version
    return f"pkg:{ptype}/{ns_part}{name}@{v}"


_GHSA = "23456789cfghjmpqrvwx"


def ghsa(n: int) -> str:
    """A well-formed GHSA id (GHSA-xxxx-xxxx-xxxx) unique to ``n``."""
    chars = []
    for _ in range(12):
        n, d = divmod(n, len(_GHSA))
        chars.append(_GHSA[d])
    text = "".join(reversed(chars))
    return f"GHSA-{text[:4]}-{text[4:8]}-{text[8:]}"


def advisory(rng: random.Random, n: int, packages: int) -> dict[str, Any]:
    """One OSV record (a dict) for a random package of a random ecosystem."""
    e = rng.randrange(len(ECOSYSTEMS))
    eco = ECOSYSTEMS[e][0]
    i = rng.randrange(packages)
    name = package(eco, i)[0]
    major = rng.randrange(1, 4)
    fixed = f"{major}.{rng.randrange(0, 10)}.{rng.randrange(0, 10)}"
    events: list[dict[str, str]] = [{"introduced": f"{major}.0.0"}]
    if rng.random() < 0.1:
        events.append({"last_affected": fixed})
    else:
        events.append({"fixed": fixed})
    affected: dict[str, Any] = {
        "package": {"ecosystem": eco, "name": name},
        "ranges": [{"type": "SEMVER" if eco in ("npm", "crates.io", "Go") else "ECOSYSTEM",
                    "events": events}],
    }  # fmt: skip
    if rng.random() < 0.05:
        affected["versions"] = [f"{major}.0.0", f"{major}.0.1"]
    return {
        "schema_version": "1.6.0",
        "id": ghsa(n),
        "aliases": [f"CVE-2030-{n + 10000}"],
        "modified": "2024-01-01T00:00:00Z",
        "published": "2023-12-01T00:00:00Z",
        "summary": f"Generated advisory {n}",
        "severity": [{"type": "CVSS_V3", "score": VECTORS[n % len(VECTORS)]}],
        "affected": [affected],
    }


def sbom(rng: random.Random, name: str, components: int, packages: int) -> bytes:
    """A CycloneDX 1.5 JSON SBOM of ``components`` components drawn from the package pool."""
    comps = []
    seen: set[str] = set()
    while len(comps) < components:
        e = rng.randrange(len(ECOSYSTEMS))
        i = rng.randrange(packages)
        version = f"{rng.randrange(1, 4)}.{rng.randrange(0, 10)}.{rng.randrange(0, 10)}"
        p = purl(e, i, version)
        if p in seen:
            continue
        seen.add(p)
        comps.append(
            {"type": "library", "bom-ref": p, "name": package(ECOSYSTEMS[e][0], i)[2],
             "version": version, "purl": p}
        )  # fmt: skip
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {"component": {"type": "application", "name": name, "version": "1.0.0"}},
        "components": comps,
    }
    return orjson.dumps(doc)
