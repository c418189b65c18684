"""What the security parsers produce: format-neutral SBOMs, advisories and VEX statements.

The parsers (CycloneDX, SPDX, OSV, OpenVEX) turn real documents into these models; the
security index stores and matches them without knowing the format they came from.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SbomFormat = Literal["cyclonedx", "spdx"]
Encoding = Literal["json", "xml", "tag-value", "yaml"]
VexStatus = Literal["not_affected", "affected", "fixed", "under_investigation"]
RangeType = Literal["SEMVER", "ECOSYSTEM", "GIT"]


class Note(BaseModel):
    """Something a parser kept but wants reported (malformed purl, bad CVSS vector, ...)."""

    where: str = Field(description="JSON pointer, XML path or line (e.g. '/components/3/purl')")
    message: str
    code: str = "warning"


class Component(BaseModel):
    key: str = Field(description="unique within the SBOM: bom-ref, SPDXID, or a derived key")
    name: str
    version: str | None = None
    group: str | None = Field(default=None, description="CycloneDX group (e.g. Maven groupId)")
    purl: str | None = None
    purl_type: str | None = None
    purl_namespace: str | None = None
    purl_name: str | None = None
    cpe: str | None = None
    licenses: list[str] = Field(default_factory=list)
    hashes: dict[str, str] = Field(default_factory=dict)
    supplier: str | None = None
    parent: str | None = Field(default=None, description="key of the enclosing component")
    matchable: bool = Field(default=True, description="False when the purl is malformed or absent")


class Dependency(BaseModel):
    source: str = Field(description="component key (or the described artifact's key)")
    target: str
    relationship: str = "dependsOn"


class VexStatement(BaseModel):
    vulnerability: str = Field(description="advisory id or alias (CVE-..., GHSA-...)")
    status: VexStatus
    justification: str | None = None
    statement: str | None = None
    products: list[str] = Field(
        default_factory=list, description="purls or component keys the statement is about"
    )
    subcomponents: list[str] = Field(
        default_factory=list,
        description="OpenVEX subcomponents: the parts of the products that carry the vulnerability",
    )
    action: str | None = Field(default=None, description="OpenVEX action_statement (affected)")
    timestamp: str | None = None


class Event(BaseModel):
    """One OSV range event: exactly one of the fields is set."""

    introduced: str | None = None
    fixed: str | None = None
    last_affected: str | None = None
    limit: str | None = None


class Range(BaseModel):
    type: RangeType
    events: list[Event] = Field(default_factory=list)
    repo: str | None = None


class Affected(BaseModel):
    ref: str | None = Field(
        default=None, description="key of the SBOM component it is about (CycloneDX affects.ref)"
    )
    ecosystem: str | None = None
    name: str | None = None
    purl: str | None = None
    ranges: list[Range] = Field(default_factory=list)
    versions: list[str] = Field(default_factory=list)


class Severity(BaseModel):
    type: str = Field(description="CVSS_V2, CVSS_V3, CVSS_V4 or another OSV severity type")
    vector: str


class Advisory(BaseModel):
    id: str
    aliases: list[str] = Field(default_factory=list)
    summary: str | None = None
    details: str | None = None
    published: str | None = None
    modified: str | None = None
    withdrawn: str | None = None
    severity: list[Severity] = Field(default_factory=list)
    affected: list[Affected] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    severity_label: str | None = Field(
        default=None,
        description="a severity word given without a vector (OSV database_specific.severity, "
        "CycloneDX rating severity), lower case",
    )
    notes: list[Note] = Field(default_factory=list)


class Sbom(BaseModel):
    format: SbomFormat
    spec_version: str
    encoding: Encoding
    name: str | None = Field(default=None, description="serial number or SPDX document name")
    described: Component | None = Field(
        default=None, description="metadata.component (CycloneDX) or the DESCRIBES target (SPDX)"
    )
    components: list[Component] = Field(default_factory=list)
    dependencies: list[Dependency] = Field(default_factory=list)
    vulnerabilities: list[Advisory] = Field(default_factory=list)
    vex: list[VexStatement] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
