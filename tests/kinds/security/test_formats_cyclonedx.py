"""CycloneDX JSON and XML on real BOMs (tests/fixtures/security/cyclonedx, see SOURCES.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hyper_registry.core.errors import Invalid, TooLarge
from hyper_registry.kinds.security.formats import detect, parse_sbom
from hyper_registry.kinds.security.formats.cyclonedx import split_bom_link

FIX = Path(__file__).parents[2] / "fixtures" / "security" / "cyclonedx"


def load(name: str) -> bytes:
    return (FIX / name).read_bytes()


def test_laravel_json_1_4() -> None:
    sbom = parse_sbom(load("bom.1.4.json"))
    assert (sbom.format, sbom.spec_version, sbom.encoding) == ("cyclonedx", "1.4", "json")
    assert len(sbom.components) == 62
    assert len(sbom.dependencies) == 113
    assert sbom.described is not None
    assert sbom.described.key == "cyclonedx/cyclonedx-php-composer-demo-dev-master"
    cors = next(c for c in sbom.components if c.name == "stack-cors")
    assert cors.purl == "pkg:composer/asm89/stack-cors@1.3.0"
    assert (cors.purl_type, cors.purl_namespace, cors.purl_name) == (
        "composer",
        "asm89",
        "stack-cors",
    )
    assert cors.group == "asm89" and cors.version == "1.3.0"
    assert cors.licenses == ["MIT"]
    assert sbom.notes == []


def test_laravel_xml_1_3_reads_like_the_json_1_4() -> None:
    xml = parse_sbom(load("bom.1.3.xml"))
    js = parse_sbom(load("bom.1.4.json"))
    assert (xml.spec_version, xml.encoding) == ("1.3", "xml")
    assert [c.model_dump() for c in xml.components] == [c.model_dump() for c in js.components]
    assert {(d.source, d.target) for d in xml.dependencies} == {
        (d.source, d.target) for d in js.dependencies
    }
    assert xml.described == js.described


def test_xml_1_6_with_bin_suffix_is_detected_from_content() -> None:
    data = load("file_with-comments_1.6.xml.bin")
    assert detect(data).kind == "cyclonedx-xml"
    sbom = parse_sbom(data)
    assert (sbom.spec_version, sbom.encoding) == ("1.6", "xml")
    assert [(c.name, c.version) for c in sbom.components] == [
        ("certifi", "2023.11.17"),
        ("chardet", "4.0.0"),
        ("idna", "2.10"),
        ("requests", "2.31.0"),
        ("urllib3", "2.2.0"),
    ]
    assert sbom.described is not None and sbom.described.key == "root-component"
    assert sbom.described.licenses == ["Apache-2.0 OR MIT"]
    assert all(c.purl_type == "pypi" for c in sbom.components)


def test_go_bom_1_2_hashes_licences_dependencies() -> None:
    sbom = parse_sbom(load("proton-bridge-v1.8.0.bom.json"))
    assert sbom.spec_version == "1.2"
    assert len(sbom.components) == 201
    assert len(sbom.dependencies) == 232
    assert sbom.described is not None
    assert sbom.described.purl == "pkg:golang/github.com/ProtonMail/proton-bridge@v1.8.0"
    first = sbom.components[0]
    assert first.name == "github.com/0xAX/notificator"
    assert first.licenses == ["BSD-3-Clause"]
    assert first.hashes["SHA-256"].startswith("8fd1da69f6a9")
    assert (first.purl_namespace, first.purl_name) == ("github.com/0xAX", "notificator")


def test_vex_document_gives_advisory_and_statement() -> None:
    sbom = parse_sbom(load("bom-examples_VEX_vex.json"))
    assert sbom.components == []
    (adv,) = sbom.vulnerabilities
    assert adv.id == "CVE-2020-25649"
    assert "SNYK-JAVA-COMFASTERXMLJACKSONCORE-1048302" in adv.aliases
    # ratings without the CVSS:3.1/ prefix get it; the duplicate NVD/SNYK vector is kept once
    assert adv.severity[0].vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"
    assert len(adv.severity) == 2
    (vex,) = sbom.vex
    assert vex.vulnerability == "CVE-2020-25649"
    assert vex.status == "not_affected"
    assert vex.justification == "code_not_reachable"
    link = split_bom_link(vex.products[0])
    assert link == (
        "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        1,
        "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.0?type=jar",
    )
    target = parse_sbom(load("bom-examples_VEX_bom.json"))
    # upstream's example links to a serial number its BOM does not carry; the bom-ref matches
    assert target.name == "urn:uuid:5f0f0da9-c03d-47d8-b38d-009e6df67094"
    assert link[2] in {c.key for c in target.components}


def _bom(components: list[dict[str, object]], version: str = "1.4") -> bytes:
    doc = {"bomFormat": "CycloneDX", "specVersion": version, "version": 1, "components": components}
    return json.dumps(doc).encode()


def test_malformed_purl_keeps_component_unmatchable_with_a_note() -> None:
    sbom = parse_sbom(
        _bom(
            [
                {"type": "library", "name": "good", "version": "1", "purl": "pkg:pypi/good@1"},
                {"type": "library", "name": "bad", "version": "1", "purl": "not a purl"},
            ]
        )
    )
    bad = next(c for c in sbom.components if c.name == "bad")
    assert bad.matchable is False and bad.purl == "not a purl"
    (note,) = sbom.notes
    assert note.where == "/components/1/purl" and note.code == "bad-purl"


def test_duplicate_components_kept_once_and_reported() -> None:
    comp = {"type": "library", "bom-ref": "a", "name": "a", "version": "1"}
    sbom = parse_sbom(_bom([comp, comp]))
    assert len(sbom.components) == 1
    assert [n.code for n in sbom.notes] == ["duplicate-component"]
    other = {"type": "library", "bom-ref": "a", "name": "a", "version": "2"}
    sbom = parse_sbom(_bom([comp, other]))
    assert [(c.key, c.version) for c in sbom.components] == [("a", "1")]
    assert "differs; the first is kept" in sbom.notes[0].message


def test_same_purl_under_two_refs_is_reported_and_both_kept() -> None:
    one = {"type": "library", "bom-ref": "x1", "name": "x", "purl": "pkg:npm/x@1.0.0"}
    two = {"type": "library", "bom-ref": "x2", "name": "x", "purl": "pkg:npm/x@1.0.0"}
    sbom = parse_sbom(_bom([one, two]))
    assert len(sbom.components) == 2
    assert [n.code for n in sbom.notes] == ["duplicate-purl"]


def test_nested_components_carry_their_parent() -> None:
    child = {"type": "library", "bom-ref": "child", "name": "c", "purl": "pkg:npm/c@1.0.0"}
    parent = {"type": "library", "bom-ref": "parent", "name": "p", "components": [child]}
    sbom = parse_sbom(_bom([parent]))
    assert [(c.key, c.parent) for c in sbom.components] == [("parent", None), ("child", "parent")]


def test_schema_failure_is_located_by_json_pointer() -> None:
    data = _bom([{"type": "library", "name": "x"}, {"type": "spaceship", "name": "y"}])
    with pytest.raises(Invalid) as err:
        parse_sbom(data)
    assert err.value.problems[0].path == "/components/1/type"
    assert "spaceship" in err.value.problems[0].message


def test_missing_required_field_is_located() -> None:
    with pytest.raises(Invalid) as err:
        parse_sbom(_bom([{"type": "library", "version": "1"}]))
    assert err.value.problems[0].path == "/components/0"
    assert "name" in err.value.problems[0].message and "required" in err.value.problems[0].message


@pytest.mark.parametrize("version", ["1.0", "1.7", "2.0"])
def test_unknown_spec_version_is_refused(version: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_sbom(_bom([], version))
    assert err.value.problems[0].code == "unsupported-version"


def test_over_the_size_limit_is_too_large() -> None:
    with pytest.raises(TooLarge):
        parse_sbom(load("bom.1.4.json"), max_bytes=1000)


def test_json_syntax_error_names_the_line() -> None:
    with pytest.raises(Invalid) as err:
        parse_sbom(b'{\n  "bomFormat": "CycloneDX",\n  "specVersion": \n}')
    assert err.value.problems[0].path == "line 4"


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE bom [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1">
  <components><component type="library"><name>&xxe;</name></component></components>
</bom>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1"><components>
<component type="library"><name>&lol2;</name></component></components></bom>"""

REMOTE_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE bom SYSTEM "http://127.0.0.1:9/evil.dtd">
<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1"/>"""


@pytest.mark.parametrize("data", [XXE, LAUGHS, REMOTE_DTD], ids=["xxe", "laughs", "remote-dtd"])
def test_xml_with_a_dtd_or_entities_is_refused(data: bytes) -> None:
    with pytest.raises(Invalid) as err:
        parse_sbom(data)
    assert err.value.problems[0].code == "xml-dtd"
    assert "/etc/passwd" not in str(err.value) and "root:" not in str(err.value)


def test_xml_schema_failure_names_the_line() -> None:
    data = b"""<?xml version="1.0"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1">
  <components>
    <component type="library"><version>1.0</version></component>
  </components>
</bom>"""
    with pytest.raises(Invalid) as err:
        parse_sbom(data)
    assert err.value.problems[0].path == "line 4"
    assert "name" in err.value.problems[0].message


def test_xml_with_embedded_vulnerability_analysis() -> None:
    data = b"""<?xml version="1.0"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1">
  <components>
    <component type="library" bom-ref="log4j">
      <group>org.apache.logging.log4j</group><name>log4j-core</name><version>2.14.1</version>
      <purl>pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1</purl>
    </component>
  </components>
  <vulnerabilities>
    <vulnerability bom-ref="v1">
      <id>CVE-2021-44228</id>
      <ratings><rating><score>10.0</score><severity>critical</severity><method>CVSSv31</method>
        <vector>AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H</vector></rating></ratings>
      <analysis><state>exploitable</state><responses><response>update</response></responses>
      </analysis>
      <affects><target><ref>log4j</ref></target></affects>
    </vulnerability>
  </vulnerabilities>
</bom>"""
    sbom = parse_sbom(data)
    (adv,) = sbom.vulnerabilities
    assert adv.severity[0].vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
    assert adv.affected[0].ref == "log4j"
    assert adv.affected[0].purl == "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
    (vex,) = sbom.vex
    assert (vex.status, vex.products) == ("affected", ["log4j"])


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"hello": "world"}', "neither CycloneDX"),
        (b"<html><body/></html>", "the XML root is <html>, not a CycloneDX <bom>"),
        (
            b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="x" xmlns:spdx="http://spdx.org/rdf/terms#"/>',
            "SPDX RDF/XML is not supported",
        ),
        (b"just some text", "neither JSON, XML nor SPDX"),
        (b'{"@context": "https://openvex.dev/ns/v0.2.0", "statements": []}', "not an SBOM"),
        (b'{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}', "SPDX 3"),
    ],
)
def test_unrecognised_documents_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_sbom(data)
    assert reason in str(err.value)


@pytest.mark.parametrize("fast", [True, False], ids=["jsonschema-rs", "jsonschema"])
def test_both_schema_validators_agree(fast: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from hyper_registry.kinds.security.formats import cyclonedx

    if not fast:  # the pure-Python path used when jsonschema-rs is not installed
        monkeypatch.setattr(cyclonedx, "_fast_validator", lambda version: None)
    for name in ("bom.1.4.json", "proton-bridge-v1.8.0.bom.json", "bom-examples_VEX_bom.json"):
        assert parse_sbom(load(name)).components
    doc = json.loads(load("bom.1.4.json"))
    doc["components"][3]["type"] = "spaceship"
    doc["components"][5]["purl"] = 5
    doc["serialNumber"] = "nope"
    with pytest.raises(Invalid) as err:
        parse_sbom(json.dumps(doc).encode())
    assert [p.path for p in err.value.problems] == [
        "/components/3/type",
        "/components/5/purl",
        "/serialNumber",
    ]
    comp = {"type": "library", "bom-ref": "a", "name": "a", "version": "1"}
    assert [n.code for n in parse_sbom(_bom([comp, comp])).notes] == ["duplicate-component"]


def test_utf16_and_long_leading_whitespace_are_still_detected() -> None:
    text = load("bom-examples_VEX_bom.json").decode()
    assert parse_sbom(text.encode("utf-16")).spec_version == "1.3"
    assert parse_sbom(b" " * 10_000 + text.encode()).spec_version == "1.3"
    assert detect(b"\n" * 5000 + b"<bom/>").kind == "xml"
