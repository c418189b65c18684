"""The ``security`` kind: SBOMs, vulnerability advisories and VEX statements."""

from __future__ import annotations

from hyper_registry.core.kind import KindSpec
from hyper_registry.kinds.security import tables as _tables  # noqa: F401 - declares the tables
from hyper_registry.kinds.security.hooks import attach
from hyper_registry.kinds.security.ids import advisory_id_problem, cvss_version
from hyper_registry.kinds.security.rules import (
    implied_relations,
    sbom_is_consistent,
    vex_is_justified,
    vulnerability_is_consistent,
)
from hyper_registry.kinds.security.sbom import SbomSpec
from hyper_registry.kinds.security.spec import RECORD_TYPES, SecuritySpec
from hyper_registry.kinds.security.vex import VexSpec
from hyper_registry.kinds.security.vulnerability import VulnerabilitySpec

KIND = KindSpec(
    name="security",
    spec_model=SecuritySpec,
    description="A security record: an SBOM, a vulnerability advisory or a VEX statement.",
    versioning="time",
    rules=(sbom_is_consistent, vulnerability_is_consistent, vex_is_justified),
    implied_relations=implied_relations,
    operations={"initialize": attach},
)

__all__ = [
    "KIND",
    "RECORD_TYPES",
    "SbomSpec",
    "SecuritySpec",
    "VexSpec",
    "VulnerabilitySpec",
    "advisory_id_problem",
    "cvss_version",
]
