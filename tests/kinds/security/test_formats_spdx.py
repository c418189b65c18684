"""SPDX 2.2/2.3 JSON and tag-value on real documents (tests/fixtures/security/spdx)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hyper_registry.core.errors import Invalid
from hyper_registry.kinds.security.formats import detect, parse_sbom

FIX = Path(__file__).parents[2] / "fixtures" / "security" / "spdx"


def load(name: str) -> bytes:
    return (FIX / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "version", "encoding", "described", "components"),
    [
        ("04-SBOMwSecurity.json", "2.3", "json", "SPDXRef-Package", 1),
        ("appbomination.spdx.json", "2.2", "json", "SPDXRef-1", 6),
        ("example1.spdx", "2.2", "tag-value", "SPDXRef-Package-hello", 0),
        ("example6-bin.spdx", "2.2", "tag-value", "SPDXRef-Package-hello-go-bin", 0),
        ("example7-bin.spdx.json", "2.2", "json", "SPDXRef-go-bin-hello", 0),
        ("examplemaven-0.0.1-enriched.spdx.json", "2.3", "json", "SPDXRef-example", 5),
        ("sbom.spdx.json", "2.3", "json", "SPDXRef-Package-hello-server-src", 3),
    ],
)
def test_every_spdx_example_imports(
    name: str, version: str, encoding: str, described: str, components: int
) -> None:
    sbom = parse_sbom(load(name))
    assert (sbom.format, sbom.spec_version, sbom.encoding) == ("spdx", version, encoding)
    assert sbom.described is not None and sbom.described.key == described
    assert len(sbom.components) == components
    # the described artifact is not repeated among the components (as in CycloneDX)
    assert described not in {c.key for c in sbom.components}


def test_appbomination_maven_purls_and_reversed_dependencies() -> None:
    sbom = parse_sbom(load("appbomination.spdx.json"))
    assert sbom.described is not None
    assert (sbom.described.name, sbom.described.version) == ("App-BOM-ination", "1.0")
    junit = next(c for c in sbom.components if c.key == "SPDXRef-22")
    assert junit.purl == "pkg:maven/junit/junit@4.12"
    assert (junit.purl_type, junit.purl_namespace, junit.purl_name) == ("maven", "junit", "junit")
    deps = {(d.source, d.target, d.relationship) for d in sbom.dependencies}
    # "SPDXRef-23 DEPENDENCY_OF SPDXRef-22" is junit dependsOn hamcrest-core
    assert ("SPDXRef-22", "SPDXRef-23", "dependsOn") in deps
    # TEST_DEPENDENCY_OF counts as a dependency of the described app
    assert ("SPDXRef-1", "SPDXRef-22", "dependsOn") in deps
    # spdx-tools flags files inside a files_analyzed=false package; kept as notes, not refused
    assert {n.code for n in sbom.notes} == {"spdx-consistency"}


def test_cargo_components_with_checksums_and_licences() -> None:
    sbom = parse_sbom(load("sbom.spdx.json"))
    tokio = next(c for c in sbom.components if c.name == "tokio")
    assert tokio.purl == "pkg:cargo/tokio@1.19.2" and tokio.version == "1.19.2"
    assert tokio.hashes["SHA256"].startswith("c51a52ed6686")
    assert tokio.licenses == ["MIT"]
    assert len(sbom.dependencies) == 3


def test_security_example_package_supplier() -> None:
    sbom = parse_sbom(load("04-SBOMwSecurity.json"))
    (xlsx,) = sbom.components
    assert (xlsx.name, xlsx.version, xlsx.supplier) == ("xlsx", "0.16.6", "Webjar")
    assert xlsx.purl == "pkg:maven/org.webjars.npm/xlsx@0.16.6"


def test_tag_value_is_detected_from_content() -> None:
    assert detect(load("example1.spdx")).kind == "spdx-tag-value"
    assert detect(b"\n\nSPDXVersion: SPDX-2.3\n").kind == "spdx-tag-value"


def test_unknown_spdx_version_is_refused() -> None:
    text = load("example1.spdx").replace(b"SPDXVersion: SPDX-2.2", b"SPDXVersion: SPDX-2.1")
    with pytest.raises(Invalid) as err:
        parse_sbom(text)
    assert err.value.problems[0].code == "unsupported-version"
    doc = json.loads(load("sbom.spdx.json"))
    doc["spdxVersion"] = "SPDX-3.0"
    with pytest.raises(Invalid) as err:
        parse_sbom(json.dumps(doc).encode())
    assert err.value.problems[0].path == "/spdxVersion"


def test_tag_value_errors_name_the_line() -> None:
    text = load("example1.spdx").decode()
    bad = text.replace("Created: 2021-08-26T01:46:00Z", "Created: yesterday")
    with pytest.raises(Invalid) as err:
        parse_sbom(bad.encode())
    assert err.value.problems[0].path == "line 9"
    bad = text.replace("FilesAnalyzed: true", "FilesAnalyzed: perhaps")
    with pytest.raises(Invalid) as err:
        parse_sbom(bad.encode())
    assert err.value.problems[0].path == "line 16"
    assert "FilesAnalyzed" in err.value.problems[0].message


def test_json_errors_carry_a_pointer() -> None:
    doc = json.loads(load("sbom.spdx.json"))
    del doc["packages"][2]["downloadLocation"]
    with pytest.raises(Invalid) as err:
        parse_sbom(json.dumps(doc).encode())
    assert err.value.problems[0].path == "/packages/2/downloadLocation"
    doc = json.loads(load("sbom.spdx.json"))
    doc["packages"][2]["checksums"] = [{"algorithm": "SHA256", "checksumValue": "xyz"}]
    with pytest.raises(Invalid) as err:
        parse_sbom(json.dumps(doc).encode())
    assert err.value.problems[0].path == "/packages/2"
    assert "64 lowercase hexadecimal digits" in err.value.problems[0].message


def test_malformed_purl_in_spdx_is_reported() -> None:
    doc = json.loads(load("sbom.spdx.json"))
    doc["packages"][1]["externalRefs"][0]["referenceLocator"] = "pkg:"
    sbom = parse_sbom(json.dumps(doc).encode())
    bad = next(c for c in sbom.components if c.key == doc["packages"][1]["SPDXID"])
    assert bad.matchable is False
    assert [n.code for n in sbom.notes] == ["bad-purl"]
    assert sbom.notes[0].where == "/packages/1/externalRefs"


def test_spdx_security_advisory_reference_becomes_an_embedded_advisory() -> None:
    from hyper_registry.kinds.security.versions import match

    sbom = parse_sbom(load("04-SBOMwSecurity.json"))
    (adv,) = sbom.vulnerabilities
    assert adv.id == "CVE-2021-32012"
    assert adv.references == ["https://nvd.nist.gov/vuln/detail/CVE-2021-32012"]
    (entry,) = adv.affected
    assert (entry.ref, entry.purl) == ("SPDXRef-xlsx", "pkg:maven/org.webjars.npm/xlsx@0.16.6")
    found = match(sbom.components[0], entry)
    assert found is not None and found.reason == "sbom-reference"


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (("packages", 2, "externalRefs", 0), 5, "/packages/2/externalRefs/0"),
        (("packages", 2, "checksums"), "SHA256", "/packages/2/checksums"),
        (("creationInfo",), 1.5, "/creationInfo"),
        (("creationInfo", "creators"), "Tool: x", "/creationInfo/creators"),
        (("relationships", 0), None, "/relationships/0"),
        (("files", 0, "checksums", 0), "abc", "/files/0/checksums/0"),
    ],
)
def test_wrong_typed_elements_are_located(
    path: tuple[str | int, ...], value: object, where: str
) -> None:
    doc = json.loads(load("sbom.spdx.json"))
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(Invalid) as err:
        parse_sbom(json.dumps(doc).encode())
    assert where in [p.path for p in err.value.problems]
