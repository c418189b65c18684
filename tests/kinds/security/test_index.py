"""The security index on real files: matching both ways, findings, summaries, events.

Hand-verified facts (from the fixture files, see tests/fixtures/security-index/SOURCES.md):

- the cyclonedx-python requirements snapshot lists idna 2.10 and urllib3 2.2.0;
  PYSEC-2024-60 (idna, CVE-2024-3651) affects idna ``>=0.1, <3.7`` (ECOSYSTEM range, fixed
  in 3.7), NVD CVSS 3.1 base score 7.5 (high);
  GHSA-34jh-p97f-mpxf (urllib3, CVE-2024-37891) affects ``>=2.0.0, <2.2.2``, fixed in 2.2.2,
  CVSS 3.1 4.4 (medium); certifi 2023.11.17, chardet 4.0.0 and requests 2.31.0 are named
  by neither advisory.
- the SPDX 2.2 appbomination example has junit 4.12, which GHSA-269g-pwp5-87pp
  (CVE-2020-15250) affects ``>=4.7, <4.13.1`` with CVSS 3.1 4.4.
- GHSA-jfh8-c2jp-5v3q (Log4Shell) affects log4j-core ``>=2.13.0, <2.15.0`` at CVSS 10.0.
"""

from __future__ import annotations

from typing import Any

import pytest

from hyper_registry import Registry
from hyper_registry.core.errors import Invalid, NotFound, TooLarge
from hyper_registry.kinds.security.index import SecurityIndex
from hyper_registry.kinds.security.parsed import Advisory, Affected, Event, Range, Severity

from .index_helpers import (
    cyclonedx,
    fixture,
    import_fixture_advisories,
    index,
)

__all__ = ["index"]

PYTHON_SBOM = "file_with-comments_1.6.xml.bin"
PY_ADVISORIES = ("PYSEC-2024-60.yaml", "GHSA-34jh-p97f-mpxf.json")


def by_component(findings: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f["component"]["purl"]: f for f in findings}


def expected_python_findings(found: dict[str, dict[str, Any]]) -> None:
    assert set(found) == {"pkg:pypi/idna@2.10", "pkg:pypi/urllib3@2.2.0"}
    idna, urllib3 = found["pkg:pypi/idna@2.10"], found["pkg:pypi/urllib3@2.2.0"]
    assert idna["advisory"] == "PYSEC-2024-60"
    assert idna["matchedRange"] == "ECOSYSTEM >=0.1, <3.7"
    assert idna["fixedVersion"] == "3.7"
    assert (idna["severity"], idna["score"]) == ("high", 7.5)
    assert urllib3["advisory"] == "GHSA-34jh-p97f-mpxf"
    assert urllib3["fixedVersion"] == "2.2.2"
    assert (urllib3["severity"], urllib3["score"]) == ("medium", 4.4)
    assert all(f["status"] == "open" for f in found.values())


def test_sbom_first_then_advisories(index: SecurityIndex) -> None:
    report = index.import_sbom(fixture(PYTHON_SBOM))
    assert report["components"] == 5
    assert report["newFindings"] == 0
    adv = import_fixture_advisories(index, *PY_ADVISORIES)
    assert (adv["created"], adv["refused"], adv["newFindings"]) == (2, 0, 2)
    expected_python_findings(by_component(index.findings(report["ref"])))


def test_advisories_first_then_sbom(index: SecurityIndex) -> None:
    import_fixture_advisories(index, *PY_ADVISORIES)
    report = index.import_sbom(fixture(PYTHON_SBOM))
    assert report["newFindings"] == 2
    expected_python_findings(by_component(index.findings(report["ref"])))
    assert report["summary"] == {
        "critical": 0,
        "high": 1,
        "medium": 1,
        "low": 0,
        "unknown": 0,
        "unpatched": 2,
        "suppressed": 0,
    }


def test_spdx_maven_component(index: SecurityIndex) -> None:
    import_fixture_advisories(index, "GHSA-269g-pwp5-87pp.json", *PY_ADVISORIES)
    report = index.import_sbom(fixture("appbomination.spdx.json"))
    found = index.findings(report["ref"])
    assert [(f["component"]["name"], f["component"]["version"]) for f in found] == [
        ("junit", "4.12")
    ]
    assert found[0]["matchedRange"] == "ECOSYSTEM >=4.7, <4.13.1"
    assert found[0]["score"] == 4.4


def test_reimport_is_unchanged(index: SecurityIndex) -> None:
    import_fixture_advisories(index, *PY_ADVISORIES)
    first = index.import_sbom(fixture(PYTHON_SBOM))
    again = index.import_sbom(fixture(PYTHON_SBOM))
    assert (first["outcome"], again["outcome"]) == ("created", "unchanged")
    assert len(index.findings(first["ref"])) == 2
    assert import_fixture_advisories(index, *PY_ADVISORIES)["unchanged"] == 2


def _idna(**changes: Any) -> Advisory:
    base = Advisory(
        id="PYSEC-2099-1",
        aliases=["CVE-2099-0001"],
        modified="2024-01-01T00:00:00Z",
        severity=[Severity(type="CVSS_V3", vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H")],
        affected=[
            Affected(
                ecosystem="PyPI",
                name="idna",
                ranges=[
                    Range(type="ECOSYSTEM", events=[Event(introduced="0"), Event(fixed="3.0")])
                ],
            )
        ],
    )
    return base.model_copy(update=changes)


def test_changed_and_withdrawn_advisory(index: SecurityIndex) -> None:
    ref = index.import_sbom(fixture(PYTHON_SBOM))["ref"]
    assert index.import_advisories([_idna()])["newFindings"] == 1
    # a new version narrows the range below 2.10: the finding goes
    narrowed = _idna(
        modified="2024-02-01T00:00:00Z",
        affected=[
            Affected(
                ecosystem="PyPI",
                name="idna",
                ranges=[
                    Range(type="ECOSYSTEM", events=[Event(introduced="0"), Event(fixed="2.9")])
                ],
            )
        ],
    )
    assert index.import_advisories([narrowed])["removedFindings"] == 1
    assert index.findings(ref) == []
    # widened again, then withdrawn: the finding comes and goes
    index.import_advisories([_idna(modified="2024-03-01T00:00:00Z")])
    assert len(index.findings(ref)) == 1
    gone = index.import_advisories(
        [_idna(modified="2024-04-01T00:00:00Z", withdrawn="2024-04-01T00:00:00Z")]
    )
    assert (gone["withdrawn"], gone["removedFindings"]) == (1, 1)
    assert index.findings(ref) == []
    # the withdrawn record is kept and found by its alias
    assert index.impact("CVE-2099-0001")["components"] == []


def test_withdrawn_record_from_the_database(index: SecurityIndex) -> None:
    report = import_fixture_advisories(index, "PYSEC-2022-43059.yaml")
    assert (report["created"], report["withdrawn"]) == (1, 1)
    data = cyclonedx([("aiohttp", "3.8.0", "pkg:pypi/aiohttp@3.8.0")])
    assert index.import_sbom(data)["newFindings"] == 0


def test_critical_finding_is_announced(registry: Registry, index: SecurityIndex) -> None:
    registry.apply(
        {
            "apiVersion": "hyper-registry/v1",
            "kind": "service",
            "metadata": {"namespace": "shop", "name": "orders", "version": "2.0.0"},
            "spec": {},
        }
    )
    import_fixture_advisories(index, "GHSA-jfh8-c2jp-5v3q.json")
    data = cyclonedx(
        [
            ("log4j-core", "2.14.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
            ("log4j-core", "2.17.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1"),
        ],
        name="orders",
        version="2.0.0",
    )
    report = index.import_sbom(data, actor="ci")
    assert report["linked"] == "service:shop/orders@2.0.0"
    assert report["ref"].startswith("security:shop/")
    assert report["summary"]["critical"] == 1
    assert report["newCritical"] == 1
    events = [c for c in registry.changes(0, 10_000) if c.op == "security.critical"]
    assert len(events) == 1
    event = events[0]
    assert (event.actor, event.ref, event.namespace) == ("ci", "service:shop/orders@2.0.0", "shop")
    assert event.detail is not None
    assert event.detail["component"] == "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
    assert event.detail["advisory"] == "GHSA-jfh8-c2jp-5v3q"
    assert event.detail["artifact"] == "service:shop/orders@2.0.0"
    # nothing new: no second event
    index.import_sbom(data, actor="ci")
    assert len([c for c in registry.changes(0, 10_000) if c.op == "security.critical"]) == 1


def test_linking_explicit_found_and_unlinked(registry: Registry, index: SecurityIndex) -> None:
    data = fixture(PYTHON_SBOM)
    unlinked = index.import_sbom(data)
    assert unlinked["unlinked"] is True
    assert "stored unlinked" in unlinked["messages"][0]
    with pytest.raises(NotFound):
        index.import_sbom(data, describes="service:team/nothing@1.0.0")
    registry.apply(
        {
            "apiVersion": "hyper-registry/v1",
            "kind": "service",
            "metadata": {
                "namespace": "team",
                "name": "testing-requirements-txt",
                "version": "0.1.0",
            },
            "spec": {},
        }
    )
    import_fixture_advisories(index, *PY_ADVISORIES)
    found = index.import_sbom(data, namespace="team", name="reqs-sbom")
    assert found["linked"] == "service:team/testing-requirements-txt@0.1.0"
    relations = {(v.type, str(v.other)) for v in registry.relations(found["ref"])}
    assert ("describes", "service:team/testing-requirements-txt@0.1.0") in relations
    # the artifact's summary goes through its SBOMs
    assert index.summary("service:team/testing-requirements-txt")["high"] == 1
    explicit = index.import_sbom(
        data, describes="service:team/testing-requirements-txt@0.1.0", name="other-sbom"
    )
    assert explicit["linked"] == "service:team/testing-requirements-txt@0.1.0"
    assert index.summary("service:team/testing-requirements-txt")["high"] == 2


def test_bad_input(index: SecurityIndex) -> None:
    bad_purl = cyclonedx([("left-pad", "1.0.0", "pkg:npm"), ("idna", "2.10", "pkg:pypi/idna@2.10")])
    report = index.import_sbom(bad_purl)
    assert report["components"] == 2
    assert report["unmatchable"] == 1
    assert any("purl" in n["where"] for n in report["notes"])
    twice = cyclonedx(
        [("idna", "2.10", "pkg:pypi/idna@2.10"), ("idna", "2.10", "pkg:pypi/idna@2.10")]
    )
    dup = index.import_sbom(twice, name="dup-sbom")
    assert dup["components"] == 1
    assert any("duplicate component" in n["message"] for n in dup["notes"])
    with pytest.raises(TooLarge):
        index.import_sbom(b" " * (60 * 1024 * 1024))
    dtd = (
        b'<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<bom xmlns="http://cyclonedx.org/schema/bom/1.5"><components/></bom>'
    )
    with pytest.raises(Invalid):
        index.import_sbom(dtd)
    with pytest.raises(Invalid):
        index.import_sbom(cyclonedx([], extra={"specVersion": "9.9"}))
    with pytest.raises(Invalid) as info:
        index.import_sbom(cyclonedx([], extra={"components": [{"type": "library"}]}))
    assert any("/components/0" in str(p.loc) for p in info.value.problems)


def test_malformed_cvss_keeps_the_advisory(index: SecurityIndex) -> None:
    broken = _idna(severity=[Severity(type="CVSS_V3", vector="CVSS:3.1/AV:N/XX:Y")])
    report = index.import_advisories([broken])
    assert report["created"] == 1
    ref = index.import_sbom(fixture(PYTHON_SBOM))["ref"]
    [finding] = index.findings(ref)
    assert (finding["severity"], finding["score"]) == ("unknown", None)
    [advisory] = index.impact("PYSEC-2099-1")["advisories"]
    assert any(n["code"] == "bad-cvss" for n in advisory["notes"])


def test_unregister_drops_findings(registry: Registry, index: SecurityIndex) -> None:
    import_fixture_advisories(index, *PY_ADVISORIES)
    ref = index.import_sbom(fixture(PYTHON_SBOM))["ref"]
    assert index.summary(ref)["high"] == 1
    advisory_ref = index.impact("CVE-2024-3651")["advisories"][0]["ref"]
    registry.unregister(advisory_ref)
    assert index.summary(ref)["high"] == 0
    assert index.summary(ref)["medium"] == 1
    registry.unregister(ref)
    with pytest.raises(NotFound):
        index.impact("CVE-2024-3651")
    assert index.portfolio()["namespaces"] == {}


def test_applied_entries_are_indexed(registry: Registry, index: SecurityIndex) -> None:
    """An SBOM and an advisory written with apply (not import) are matched too."""
    registry.apply_many(
        [
            {
                "apiVersion": "hyper-registry/v1",
                "kind": "security",
                "metadata": {"namespace": "edge", "name": "gw-sbom", "version": "5.2.0"},
                "spec": {
                    "type": "sbom",
                    "format": "cyclonedx",
                    "linkedArtifact": "service:edge/api-gateway@5.2.0",
                    "document": {
                        "bomFormat": "CycloneDX",
                        "specVersion": "1.5",
                        "version": 1,
                        "components": [
                            {
                                "type": "library",
                                "name": "lodash",
                                "version": "4.17.20",
                                "purl": "pkg:npm/lodash@4.17.20",
                            },
                        ],
                    },
                },
            },
            {
                "apiVersion": "hyper-registry/v1",
                "kind": "security",
                "metadata": {"namespace": "advisories", "name": "cve-2021-23337", "version": "1"},
                "spec": {
                    "type": "vulnerability",
                    "id": "CVE-2021-23337",
                    "aliases": ["GHSA-35jh-r3h4-6jhm"],
                    "cvss": {"vector": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"},
                    "affected": [
                        {
                            "purl": "pkg:npm/lodash",
                            "ranges": [
                                {
                                    "type": "SEMVER",
                                    "events": [{"introduced": "0"}, {"fixed": "4.17.21"}],
                                }
                            ],
                        }
                    ],
                },
            },
        ]
    )
    [finding] = index.findings("security:edge/gw-sbom@5.2.0")
    assert (finding["advisory"], finding["score"], finding["fixedVersion"]) == (
        "CVE-2021-23337",
        7.2,
        "4.17.21",
    )
    assert index.summary("security:edge/gw-sbom@5.2.0")["high"] == 1
    with pytest.raises(NotFound):  # the described service is not registered
        index.summary("service:edge/api-gateway@5.2.0")
