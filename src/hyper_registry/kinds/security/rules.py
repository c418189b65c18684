"""Security rules beyond the spec models, and the relations a record implies."""

from __future__ import annotations

from collections.abc import Iterator

from hyper_registry.core.envelope import Document
from hyper_registry.core.errors import Problem
from hyper_registry.core.kind import ImpliedRelation, RuleContext
from hyper_registry.kinds.common import duplicates, unique_relations
from hyper_registry.kinds.security.sbom import SPEC_VERSIONS, SbomSpec
from hyper_registry.kinds.security.spec import SecuritySpec
from hyper_registry.kinds.security.vex import VexSpec
from hyper_registry.kinds.security.vulnerability import VulnerabilitySpec

_FORMAT_NAMES = {"cyclonedx": "CycloneDX", "spdx": "SPDX"}


def sbom_is_consistent(spec: SecuritySpec, doc: Document, ctx: RuleContext) -> Iterator[Problem]:
    """The format version is one the registry reads, and the document agrees with the spec."""
    sbom = spec.root
    if not isinstance(sbom, SbomSpec):
        return
    name = _FORMAT_NAMES[sbom.format]
    known = SPEC_VERSIONS[sbom.format]
    document = sbom.document
    if document is not None:
        yield from _document_problems(sbom, document, name)
    version = sbom.effective_spec_version()
    if version is not None and version not in known:
        loc = ("spec", "specVersion") if sbom.specVersion is not None else ("spec", "document")
        yield Problem(
            loc,
            f"{name} version {version} is not one the registry reads ({', '.join(known)})",
            "unsupported-version",
        )


def _document_problems(sbom: SbomSpec, document: dict[str, object], name: str) -> Iterator[Problem]:
    loc = ("spec", "document")
    if sbom.format == "cyclonedx":
        marker, stated = document.get("bomFormat"), document.get("specVersion")
        if marker != "CycloneDX":
            yield Problem(
                (*loc, "bomFormat"),
                f"a CycloneDX document has bomFormat 'CycloneDX'; this one has {marker!r}",
                "format-mismatch",
            )
    else:
        spdx = document.get("spdxVersion")
        stated = spdx.removeprefix("SPDX-") if isinstance(spdx, str) else None
        if not (isinstance(spdx, str) and spdx.startswith("SPDX-")):
            yield Problem(
                (*loc, "spdxVersion"),
                f"an SPDX document has spdxVersion like 'SPDX-2.3'; this one has {spdx!r}",
                "format-mismatch",
            )
    if sbom.specVersion is not None and stated is not None and stated != sbom.specVersion:
        yield Problem(
            ("spec", "specVersion"),
            f"specVersion {sbom.specVersion} does not agree with the document's {name} "
            f"version {stated}",
            "format-mismatch",
        )


def vulnerability_is_consistent(
    spec: SecuritySpec, doc: Document, ctx: RuleContext
) -> Iterator[Problem]:
    """Aliases differ from the id and each other, the CVSS version matches the vector,
    and the record is not modified before it was published."""
    vuln = spec.root
    if not isinstance(vuln, VulnerabilitySpec):
        return
    for i, alias in enumerate(vuln.aliases):
        if alias == vuln.id:
            yield Problem(("spec", "aliases", i), f"alias {alias!r} is the id itself", "duplicate")
    yield from duplicates(vuln.aliases, ("spec", "aliases"), "alias")
    yield from duplicates(vuln.affects, ("spec", "affects"), "artifact")
    cvss = vuln.cvss
    if cvss is not None and cvss.version is not None and cvss.version != cvss.vector_version:
        yield Problem(
            ("spec", "cvss", "version"),
            f"version {cvss.version} does not agree with the vector, which is CVSS "
            f"{cvss.vector_version}",
            "inconsistent-cvss",
        )
    if vuln.published and vuln.modified and vuln.modified < vuln.published:
        yield Problem(
            ("spec", "modified"),
            f"modified {vuln.modified.isoformat()} is before published "
            f"{vuln.published.isoformat()}",
            "bad-timestamps",
        )


def vex_is_justified(spec: SecuritySpec, doc: Document, ctx: RuleContext) -> Iterator[Problem]:
    """A ``not_affected`` statement says why: a justification or a statement."""
    vex = spec.root
    if (
        isinstance(vex, VexSpec)
        and vex.state == "not_affected"
        and vex.justification is None
        and vex.statement is None
    ):
        yield Problem(
            ("spec", "justification"),
            "a not_affected state needs a justification or a statement saying why",
            "unjustified",
        )


def implied_relations(spec: SecuritySpec) -> Iterator[ImpliedRelation]:
    """An SBOM ``describes`` its linked artifact; a vulnerability ``affects`` what it lists."""
    record = spec.root
    if isinstance(record, SbomSpec):
        if record.linkedArtifact is not None:
            yield ImpliedRelation("describes", record.linkedArtifact, ("spec", "linkedArtifact"))
    elif isinstance(record, VulnerabilitySpec):
        yield from unique_relations(
            ImpliedRelation("affects", ref, ("spec", "affects", i))
            for i, ref in enumerate(record.affects)
        )
