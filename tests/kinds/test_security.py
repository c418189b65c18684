"""The security kind: SBOM, vulnerability and VEX records."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from hyper_registry.core.kind import ImpliedRelation
from hyper_registry.core.ref import Ref
from hyper_registry.kinds.security import (
    KIND,
    SbomSpec,
    SecuritySpec,
    VexSpec,
    VulnerabilitySpec,
    advisory_id_problem,
    cvss_version,
)

from .kindcheck import check, only

ARTIFACT = "service:edge/api-gateway@5.2.0"
CDX = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": []}
SPDX = {"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "packages": []}


def sbom(**fields: Any) -> dict[str, Any]:
    return {"type": "sbom", "format": "cyclonedx", "linkedArtifact": ARTIFACT, **fields}


def vuln(**fields: Any) -> dict[str, Any]:
    return {"type": "vulnerability", "id": "CVE-2021-23337", **fields}


def vex(**fields: Any) -> dict[str, Any]:
    return {
        "type": "vex",
        "vulnerability": "CVE-2021-23337",
        "artifact": ARTIFACT,
        "state": "under_investigation",
        **fields,
    }


# -- the record type ------------------------------------------------------------------------


def test_record_type_picks_the_model() -> None:
    assert isinstance(SecuritySpec.model_validate(sbom()).root, SbomSpec)
    assert isinstance(SecuritySpec.model_validate(vuln()).root, VulnerabilitySpec)
    assert isinstance(SecuritySpec.model_validate(vex()).root, VexSpec)


def test_record_type_required_and_known() -> None:
    assert only(check("security", {"format": "spdx"})) == (
        "spec.type",
        "type is required: one of sbom, vulnerability, vex",
    )
    assert only(check("security", {"type": "advisory"})) == (
        "spec.type",
        "type 'advisory' is not one of: sbom, vulnerability, vex",
    )


def test_errors_have_the_written_path() -> None:
    # not spec.sbom.linkedArtifact, as a tagged union would say
    assert only(check("security", {"type": "sbom", "linkedArtifact": ARTIFACT})) == (
        "spec.format",
        "Field required",
    )
    assert only(check("security", sbom(components=[]))) == (
        "spec.components",
        "Extra inputs are not permitted",
    )
    # fields of another record type are unknown here
    assert only(check("security", vuln(state="fixed"))) == (
        "spec.state",
        "Extra inputs are not permitted",
    )


# -- sbom ------------------------------------------------------------------------------------


def test_sbom_describes_its_artifact() -> None:
    spec = SecuritySpec.model_validate(sbom(document=CDX))
    assert KIND.relations_of(spec) == [
        ImpliedRelation("describes", Ref.parse(ARTIFACT), ("spec", "linkedArtifact"))
    ]
    assert check("security", sbom(document=CDX, specVersion="1.5")) == []
    assert check("security", sbom(format="spdx", specVersion="2.3", document=SPDX)) == []


def test_sbom_format_refused() -> None:
    assert only(check("security", sbom(format="swid"))) == (
        "spec.format",
        "format 'swid' is not one of: cyclonedx, spdx",
    )


def test_sbom_linked_artifact_is_a_ref() -> None:
    assert only(check("security", sbom(linkedArtifact="api-gateway")))[0] == "spec.linkedArtifact"


def test_sbom_spec_version() -> None:
    record = SecuritySpec.model_validate(sbom(document=CDX)).root
    assert isinstance(record, SbomSpec)
    assert record.effective_spec_version() == "1.5"
    assert only(check("security", sbom(specVersion="1.1"))) == (
        "spec.specVersion",
        "CycloneDX version 1.1 is not one the registry reads (1.2, 1.3, 1.4, 1.5, 1.6)",
    )
    assert only(check("security", sbom(format="spdx", specVersion="3.0"))) == (
        "spec.specVersion",
        "SPDX version 3.0 is not one the registry reads (2.2, 2.3)",
    )
    old = {**CDX, "specVersion": "1.0"}
    assert only(check("security", sbom(document=old))) == (
        "spec.document",
        "CycloneDX version 1.0 is not one the registry reads (1.2, 1.3, 1.4, 1.5, 1.6)",
    )


def test_sbom_document_agrees_with_spec() -> None:
    assert only(check("security", sbom(specVersion="1.6", document=CDX))) == (
        "spec.specVersion",
        "specVersion 1.6 does not agree with the document's CycloneDX version 1.5",
    )
    assert only(check("security", sbom(document=SPDX))) == (
        "spec.document.bomFormat",
        "a CycloneDX document has bomFormat 'CycloneDX'; this one has None",
    )
    assert only(check("security", sbom(format="spdx", document=CDX))) == (
        "spec.document.spdxVersion",
        "an SPDX document has spdxVersion like 'SPDX-2.3'; this one has None",
    )
    assert only(check("security", sbom(format="spdx", specVersion="2.2", document=SPDX))) == (
        "spec.specVersion",
        "specVersion 2.2 does not agree with the document's SPDX version 2.3",
    )


# -- vulnerability ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "advisory",
    [
        "CVE-2021-44228",
        "CVE-2014-0160",
        "CVE-2023-1234567",
        "GHSA-jfh8-c2jp-5v3q",
        "PYSEC-2021-1",
        "RUSTSEC-2021-0001",
        "GO-2022-0001",
        "OSV-2020-111",
        "MAL-2023-1",
        "DEBIAN-CVE-2021-44228",
        "ALSA-2023:1234",
    ],
)
def test_advisory_ids_accepted(advisory: str) -> None:
    assert advisory_id_problem(advisory) is None
    assert check("security", vuln(id=advisory)) == []


@pytest.mark.parametrize(
    ("advisory", "message"),
    [
        ("CVE-21-1", "id 'CVE-21-1' is not a CVE id (CVE-YYYY-NNNN, four or more digits)"),
        ("CVE-2021-123", "id 'CVE-2021-123' is not a CVE id (CVE-YYYY-NNNN, four or more digits)"),
        (
            "GHSA-JFH8-C2JP-5V3Q",
            "id 'GHSA-JFH8-C2JP-5V3Q' is not a GHSA id (GHSA-xxxx-xxxx-xxxx, lowercase)",
        ),
        ("GHSA-abcd-efgh", "id 'GHSA-abcd-efgh' is not a GHSA id (GHSA-xxxx-xxxx-xxxx, lowercase)"),
        (
            "log4shell",
            "id 'log4shell' is not an advisory id: use a CVE id (CVE-2021-44228), a GHSA id "
            "(GHSA-jfh8-c2jp-5v3q) or an OSV id (PYSEC-2021-1, RUSTSEC-2021-0001, GO-2022-0001)",
        ),
    ],
)
def test_advisory_ids_refused(advisory: str, message: str) -> None:
    assert only(check("security", vuln(id=advisory))) == ("spec.id", message)


def test_aliases() -> None:
    assert check("security", vuln(aliases=["GHSA-35jh-r3h4-6jhm", "SNYK-JS-LODASH-1040724"])) == []
    assert only(check("security", vuln(aliases=["lodash bug"])))[0] == "spec.aliases[0]"
    assert only(check("security", vuln(aliases=["CVE-2021-23337"]))) == (
        "spec.aliases[0]",
        "alias 'CVE-2021-23337' is the id itself",
    )
    assert only(check("security", vuln(aliases=["GO-2021-1", "GO-2021-1"]))) == (
        "spec.aliases[1]",
        "alias 'GO-2021-1' is listed twice (first at spec.aliases[0])",
    )


@pytest.mark.parametrize(
    ("vector", "version"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", "3.1"),
        ("CVSS:3.0/S:U/AV:N/AC:L/PR:H/UI:N/C:L/I:L/A:N/E:F/RL:X", "3.0"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "4.0"),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", "2.0"),
        ("(AV:N/AC:L/Au:N/C:P/I:P/A:P/E:POC/RL:OF/RC:C)", "2.0"),
    ],
)
def test_cvss_vectors_accepted(vector: str, version: str) -> None:
    assert cvss_version(vector) == version
    assert check("security", vuln(cvss={"vector": vector, "score": 7.2, "version": version})) == []


@pytest.mark.parametrize(
    ("vector", "reason"),
    [
        (
            "CVSS:3.2/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H",
            "has version '3.2'; known versions: 2.0, 3.0, 3.1, 4.0",
        ),
        ("CVSS:3.1/AV:N/AC:L", "lacks the CVSS 3.1 base metrics PR, UI, S, C, I, A"),
        ("CVSS:3.1/AV:N/AV:L/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", "gives metric AV twice"),
        ("CVSS:3.1/AV=N", "has a part 'AV=N' that is not METRIC:VALUE"),
        ("9.8", "has a part '9.8' that is not METRIC:VALUE"),
    ],
)
def test_cvss_vectors_refused(vector: str, reason: str) -> None:
    assert only(check("security", vuln(cvss={"vector": vector}))) == (
        "spec.cvss.vector",
        f"vector {vector!r} {reason}",
    )


def test_cvss_score_and_version() -> None:
    vector = "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"
    assert only(check("security", vuln(cvss={"vector": vector, "score": 10.5}))) == (
        "spec.cvss.score",
        "Input should be less than or equal to 10",
    )
    assert only(check("security", vuln(cvss={"vector": vector, "version": "4.0"}))) == (
        "spec.cvss.version",
        "version 4.0 does not agree with the vector, which is CVSS 3.1",
    )
    assert only(check("security", vuln(cvss={"vector": vector, "version": "3"}))) == (
        "spec.cvss.version",
        "version '3' is not one of: 2.0, 3.0, 3.1, 4.0",
    )


@pytest.mark.parametrize("severity", ["low", "HIGH", "Critical", "none", "medium"])
def test_severity_any_case(severity: str) -> None:
    assert check("security", vuln(severity=severity)) == []
    spec = SecuritySpec.model_validate(vuln(severity=severity)).root
    assert isinstance(spec, VulnerabilitySpec)
    assert spec.severity == severity  # stored as written


def test_unknown_severity_refused() -> None:
    assert only(check("security", vuln(severity="severe"))) == (
        "spec.severity",
        "severity 'severe' is not one of: none, low, medium, high, critical",
    )


def test_affected_packages() -> None:
    affected = [
        {
            "purl": "pkg:npm/lodash",
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}],
        },
        {"ecosystem": "PyPI", "name": "jinja2", "versions": ["2.10", "2.11.0"]},
        {
            "purl": "pkg:golang/golang.org/x/net",
            "ecosystem": "Go",
            "name": "golang.org/x/net",
            "ranges": [
                {
                    "type": "GIT",
                    "repo": "https://go.googlesource.com/net",
                    "events": [
                        {"introduced": "0"},
                        {"last_affected": "abc123"},
                        {"limit": "def456"},
                    ],
                }
            ],
        },
    ]
    assert check("security", vuln(affected=affected)) == []


@pytest.mark.parametrize(
    ("affected", "path", "message"),
    [
        (
            {"ranges": []},
            "spec.affected[0]",
            "an affected package needs a purl, or an ecosystem and a name",
        ),
        ({"name": "lodash"}, "spec.affected[0]", "give ecosystem and name together"),
        (
            {"purl": "npm/lodash"},
            "spec.affected[0].purl",
            "purl 'npm/lodash' must look like pkg:type/name (a package URL)",
        ),
        (
            {"purl": "pkg:npm/x", "ranges": [{"type": "SEMVER", "events": [{"fixed": "1.0.0"}]}]},
            "spec.affected[0].ranges[0]",
            "a range needs at least one introduced event",
        ),
        (
            {"purl": "pkg:npm/x", "ranges": [{"type": "GIT", "events": [{"introduced": "0"}]}]},
            "spec.affected[0].ranges[0]",
            "a GIT range needs repo, the repository URL",
        ),
        (
            {"purl": "pkg:npm/x", "ranges": [{"type": "semver", "events": [{"introduced": "0"}]}]},
            "spec.affected[0].ranges[0].type",
            "type 'semver' is not one of: SEMVER, ECOSYSTEM, GIT",
        ),
        (
            {
                "purl": "pkg:npm/x",
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0", "fixed": "1"}]}],
            },
            "spec.affected[0].ranges[0].events[0]",
            "an event has exactly one of introduced, fixed, last_affected or limit; got introduced and fixed",
        ),
        (
            {
                "purl": "pkg:npm/x",
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {}]}],
            },
            "spec.affected[0].ranges[0].events[1]",
            "an event has exactly one of introduced, fixed, last_affected or limit; got none",
        ),
        (
            {"purl": "pkg:npm/x", "ranges": [{"type": "SEMVER", "events": []}]},
            "spec.affected[0].ranges[0].events",
            "List should have at least 1 item after validation, not 0",
        ),
    ],
)
def test_affected_refused(affected: dict[str, Any], path: str, message: str) -> None:
    assert only(check("security", vuln(affected=[affected]))) == (path, message)


def test_timestamps() -> None:
    spec = SecuritySpec.model_validate(
        vuln(
            published=date(2021, 2, 15),
            modified="2022-09-13T10:00:00Z",
            withdrawn="2023-01-01T00:00:00",
        )
    ).root
    assert isinstance(spec, VulnerabilitySpec)
    assert spec.published == datetime(2021, 2, 15, tzinfo=UTC)
    assert spec.modified == datetime(2022, 9, 13, 10, tzinfo=UTC)
    assert spec.withdrawn == datetime(2023, 1, 1, tzinfo=UTC)  # naive taken as UTC
    assert only(
        check("security", vuln(published="2022-09-13T00:00:00Z", modified="2021-01-01T00:00:00Z"))
    ) == (
        "spec.modified",
        "modified 2021-01-01T00:00:00+00:00 is before published 2022-09-13T00:00:00+00:00",
    )
    assert only(check("security", vuln(published="yesterday")))[0] == "spec.published"


def test_vulnerability_affects_relations() -> None:
    targets = ["security:edge/api-gateway-sbom@5.2.0", "plugin:edge/header-scrubber"]
    spec = SecuritySpec.model_validate(vuln(affects=targets))
    assert KIND.relations_of(spec) == [
        ImpliedRelation("affects", Ref.parse(targets[0]), ("spec", "affects", 0)),
        ImpliedRelation("affects", Ref.parse(targets[1]), ("spec", "affects", 1)),
    ]
    assert only(check("security", vuln(affects=[targets[1], targets[1]]))) == (
        "spec.affects[1]",
        f"artifact {targets[1]!r} is listed twice (first at spec.affects[0])",
    )


# -- vex -------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["affected", "fixed", "under_investigation"])
def test_vex_states(state: str) -> None:
    assert check("security", vex(state=state)) == []


def test_vex_implies_no_relation() -> None:
    spec = SecuritySpec.model_validate(vex(state="fixed"))
    assert KIND.relations_of(spec) == []
    assert isinstance(spec.root, VexSpec)
    assert spec.root.artifact == Ref.parse(ARTIFACT)


def test_vex_unknown_state_refused() -> None:
    assert only(check("security", vex(state="resolved"))) == (
        "spec.state",
        "state 'resolved' is not one of: not_affected, affected, fixed, under_investigation",
    )


def test_vex_not_affected_needs_a_reason() -> None:
    assert only(check("security", vex(state="not_affected"))) == (
        "spec.justification",
        "a not_affected state needs a justification or a statement saying why",
    )
    assert (
        check(
            "security",
            vex(state="not_affected", justification="vulnerable_code_not_in_execute_path"),
        )
        == []
    )
    assert (
        check("security", vex(state="not_affected", statement="template() is never called")) == []
    )


def test_vex_vulnerability_id_or_ref() -> None:
    spec = SecuritySpec.model_validate(vex(vulnerability="security:advisories/cve-2021-23337")).root
    assert isinstance(spec, VexSpec)
    assert spec.vulnerability_ref == Ref("security", "advisories", "cve-2021-23337")
    by_id = SecuritySpec.model_validate(vex()).root
    assert isinstance(by_id, VexSpec)
    assert by_id.vulnerability_ref is None
    assert only(check("security", vex(vulnerability="service:edge/api"))) == (
        "spec.vulnerability",
        "vulnerability reference 'service:edge/api' must point at a security record, not a service",
    )
    assert only(check("security", vex(vulnerability="lodash template bug"))) == (
        "spec.vulnerability",
        "vulnerability 'lodash template bug' is neither an advisory id (CVE-..., GHSA-..., an OSV id) "
        "nor a reference security:namespace/name[@version]",
    )


def test_vex_artifact_is_a_ref() -> None:
    assert only(check("security", vex(artifact="api-gateway")))[0] == "spec.artifact"
