"""Helpers of the security index tests: real fixture files and small hand-written SBOMs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from hyper_registry import Registry
from hyper_registry.kinds.security.formats import iter_advisories
from hyper_registry.kinds.security.index import SecurityIndex

FIXTURES = Path(__file__).parent.parent.parent / "fixtures" / "security-index"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def cyclonedx(
    components: Sequence[tuple[str, str, str | None]],
    *,
    name: str = "shop",
    version: str = "1.0.0",
    extra: dict[str, Any] | None = None,
) -> bytes:
    """A CycloneDX 1.5 JSON SBOM describing ``name@version`` with (name, version, purl) parts."""
    comps = []
    for n, v, purl in components:
        c: dict[str, Any] = {"type": "library", "name": n, "version": v, "bom-ref": f"ref-{n}-{v}"}
        if purl is not None:
            c["purl"] = purl
        comps.append(c)
    doc: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {"component": {"type": "application", "name": name, "version": version}},
        "components": comps,
        **(extra or {}),
    }
    return orjson.dumps(doc)


def import_fixture_advisories(index: SecurityIndex, *names: str) -> dict[str, Any]:
    records = [r for n in names for r in iter_advisories(FIXTURES / n)]
    return index.import_advisories(records)


@pytest.fixture
def index(registry: Registry) -> SecurityIndex:
    return registry.extension(SecurityIndex)
