"""Ecosystem-correct matching: hand-verified facts on real SBOMs and OSV records, and the
version rules of each supported ecosystem."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyper_registry.kinds.security.formats import parse_advisory, parse_sbom
from hyper_registry.kinds.security.formats._common import split_purl
from hyper_registry.kinds.security.parsed import Advisory, Affected, Component, Event, Range, Sbom
from hyper_registry.kinds.security.versions import (
    affected_package,
    base_ecosystem,
    component_package,
    ecosystem_for_purl_type,
    explain,
    explain_advisory,
    match,
    purl_type_for_ecosystem,
    supported_ecosystems,
)

FIX = Path(__file__).parents[2] / "fixtures" / "security"


def sbom(path: str) -> Sbom:
    return parse_sbom((FIX / path).read_bytes())


def advisory(name: str) -> Advisory:
    return parse_advisory((FIX / "osv" / name).read_bytes(), where=name)


def comp(purl: str) -> Component:
    from packageurl import PackageURL

    parsed = PackageURL.from_string(purl)
    return split_purl(
        Component(key=purl, name=parsed.name, version=parsed.version, purl=purl), "", []
    )


def named(doc: Sbom, name: str) -> Component:
    return next(c for c in doc.components if c.name == name)


# --- facts on real files ------------------------------------------------------------------


def test_gin_in_proton_bridge_is_affected_by_go_2020_0001() -> None:
    gin = named(sbom("cyclonedx/proton-bridge-v1.8.0.bom.json"), "github.com/gin-gonic/gin")
    assert gin.version == "v1.4.0"
    found = match(gin, advisory("GO-2020-0001.json").affected[0])
    assert found is not None
    assert (found.reason, found.range, found.fixed) == ("range", "SEMVER <1.6.0", "1.6.0")


def test_websocket_in_proton_bridge_is_not_affected_fixed_exactly_there() -> None:
    ws = named(sbom("cyclonedx/proton-bridge-v1.8.0.bom.json"), "github.com/gorilla/websocket")
    assert ws.version == "v1.4.1"
    verdict = explain(ws, advisory("GO-2020-0019.json").affected[0])
    assert not verdict.affected
    assert "outside SEMVER range" in verdict.reason


def test_go_pseudo_versions_compare_as_semver_prereleases() -> None:
    doc = sbom("cyclonedx/proton-bridge-v1.8.0.bom.json")
    yaml3 = named(doc, "gopkg.in/yaml.v3")
    assert yaml3.version == "v3.0.0-20200313102051-9f266ea9e77c"
    found = match(yaml3, advisory("GO-2022-0603.json").affected[0])
    assert found is not None and found.fixed == "3.0.0-20220521103104-8f96da9f5d5e"
    text = named(doc, "golang.org/x/text")
    found = match(text, advisory("GO-2021-0113.json").affected[0])
    assert found is not None and found.fixed == "0.3.7"


def test_jwt_go_affected_without_a_fix() -> None:
    jwt = named(sbom("cyclonedx/proton-bridge-v1.8.0.bom.json"), "github.com/dgrijalva/jwt-go")
    found = match(jwt, advisory("GO-2020-0017.json").affected[0])
    assert found is not None and found.fixed is None
    assert "no fix" in found.detail


def test_python_requirements_idna_and_urllib3() -> None:
    doc = sbom("cyclonedx/file_with-comments_1.6.xml.bin")
    idna, urllib3 = named(doc, "idna"), named(doc, "urllib3")
    found = explain_advisory(idna, advisory("PYSEC-2024-60.yaml")).match
    assert found is not None and found.fixed == "3.7"
    # GHSA-34jh-p97f-mpxf: urllib3 >=2.0.0,<2.2.2 (second affected entry)
    verdict = explain_advisory(urllib3, advisory("GHSA-34jh-p97f-mpxf.json"))
    assert verdict.match is not None
    assert verdict.match.range == "ECOSYSTEM >=2.0.0, <2.2.2" and verdict.match.fixed == "2.2.2"
    # PYSEC-2023-212 was fixed in 2.0.7: 2.2.0 is not affected; its GIT range is not used
    verdict = explain_advisory(urllib3, advisory("PYSEC-2023-212.yaml"))
    assert not verdict.affected
    assert "GIT ranges" in verdict.reason and "outside ECOSYSTEM range" in verdict.reason
    # requests, certifi: no advisory of these
    assert (
        explain_advisory(named(doc, "requests"), advisory("PYSEC-2023-212.yaml")).affected is False
    )


def test_junit_in_spdx_and_in_cyclonedx_is_affected_by_ghsa_269g() -> None:
    junit_spdx = next(
        c for c in sbom("spdx/appbomination.spdx.json").components if c.name == "junit"
    )
    found = match(junit_spdx, advisory("GHSA-269g-pwp5-87pp.json").affected[0])
    assert found is not None
    assert (found.range, found.fixed) == ("ECOSYSTEM >=4.7, <4.13.1", "4.13.1")
    assert (
        match(
            comp("pkg:maven/junit/junit@4.13.1"), advisory("GHSA-269g-pwp5-87pp.json").affected[0]
        )
        is None
    )


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2.14.1", "ECOSYSTEM >=2.13.0, <2.15.0"),
        ("2.0-beta9", "ECOSYSTEM <2.3.1"),
        ("2.12.1", "ECOSYSTEM >=2.4, <2.12.2"),
        ("2.12.2", None),
        ("2.3.1", None),
        ("2.17.1", None),
    ],
)
def test_log4shell_maven_versions(version: str, expected: str | None) -> None:
    log4j = comp(f"pkg:maven/org.apache.logging.log4j/log4j-core@{version}")
    adv = advisory("GHSA-jfh8-c2jp-5v3q.json")
    verdict = explain_advisory(log4j, adv)
    assert (verdict.match.range if verdict.match else None) == expected


def test_lodash_npm_as_in_juice_shop() -> None:
    proto = advisory("GHSA-p6mc-m468-83gw.json")
    command = advisory("GHSA-35jh-r3h4-6jhm.json")
    assert explain_advisory(comp("pkg:npm/lodash@4.17.19"), proto).affected
    assert not explain_advisory(comp("pkg:npm/lodash@4.17.20"), proto).affected
    assert explain_advisory(comp("pkg:npm/lodash@4.17.20"), command).affected
    assert not explain_advisory(comp("pkg:npm/lodash@4.17.21"), command).affected
    # lodash-es is a different package
    assert not explain(comp("pkg:npm/lodash@4.17.19"), command.affected[1]).affected


def test_withdrawn_advisory_never_matches() -> None:
    aiohttp = comp("pkg:pypi/aiohttp@3.8.1")
    adv = advisory("PYSEC-2022-43059.yaml")
    assert explain(aiohttp, adv.affected[0]).affected  # the range itself covers it
    verdict = explain_advisory(aiohttp, adv)
    assert not verdict.affected and "withdrawn" in verdict.reason


def test_pypi_names_are_normalised() -> None:
    adv = advisory("PYSEC-2021-142.yaml")
    found = match(comp("pkg:pypi/PyYAML@5.3.1"), adv.affected[0])
    assert found is not None and found.fixed == "5.4"
    assert match(comp("pkg:pypi/pyyaml@5.4"), adv.affected[0]) is None


# --- ecosystem rules ------------------------------------------------------------------------


def aff(
    ecosystem: str,
    name: str,
    *events: Event,
    kind: str = "ECOSYSTEM",
    versions: list[str] | None = None,
) -> Affected:
    return Affected(
        ecosystem=ecosystem,
        name=name,
        ranges=[Range(type=kind, events=list(events))] if events else [],  # type: ignore[arg-type]
        versions=versions or [],
    )


@pytest.mark.parametrize(
    ("purl", "ecosystem", "name", "introduced", "fixed", "hit"),
    [
        ("pkg:pypi/django@4.2rc1", "PyPI", "Django", "0", "4.2", True),  # rc before release
        ("pkg:pypi/django@4.2.post1", "PyPI", "django", "0", "4.2", False),
        ("pkg:npm/%40babel/traverse@7.23.1", "npm", "@babel/traverse", "0", "7.23.2", True),
        ("pkg:npm/semver@7.5.2-beta.1", "npm", "semver", "7.0.0", "7.5.2", True),
        ("pkg:maven/org.example/lib@1.0-SNAPSHOT", "Maven", "org.example:lib", "0", "1.0", True),
        ("pkg:maven/org.example/lib@1.0.1", "Maven", "org.example:lib", "0", "1.0", False),
        ("pkg:golang/golang.org/x/net@v0.16.0", "Go", "golang.org/x/net", "0", "0.17.0", True),
        ("pkg:cargo/hyper@0.14.9", "crates.io", "hyper", "0.14.0", "0.14.10", True),
        ("pkg:nuget/Newtonsoft.Json@12.0.3-beta1", "NuGet", "newtonsoft.json", "0", "12.0.3", True),
        ("pkg:gem/rack@2.2.6.pre", "RubyGems", "rack", "2.2.0", "2.2.6", True),
        ("pkg:deb/debian/openssl@1:1.1.1n-0", "Debian:11", "openssl", "0", "3.0.0", False),  # epoch
        (
            "pkg:deb/debian/openssl@1.1.1n-0+deb11u4",
            "Debian:11",
            "openssl",
            "0",
            "1.1.1n-0+deb11u5",
            True,
        ),
        ("pkg:apk/alpine/busybox@1.36.1-r2", "Alpine:v3.18", "busybox", "0", "1.36.1-r3", True),
        ("pkg:apk/alpine/busybox@1.36.1-r3", "Alpine:v3.18", "busybox", "0", "1.36.1-r3", False),
        (
            "pkg:composer/laravel/framework@v8.1.0",
            "Packagist",
            "laravel/framework",
            "8.0.0",
            "8.10.0",
            True,
        ),
        ("pkg:hex/plug@1.14.0", "Hex", "plug", "1.0.0", "1.14.2", True),
        ("pkg:pub/http@0.13.3", "Pub", "http", "0", "0.13.3", False),
    ],
)
def test_ecosystem_version_rules(
    purl: str, ecosystem: str, name: str, introduced: str, fixed: str, hit: bool
) -> None:
    entry = aff(ecosystem, name, Event(introduced=introduced), Event(fixed=fixed))
    verdict = explain(comp(purl), entry)
    assert verdict.affected is hit, verdict.reason


def test_last_affected_is_inclusive() -> None:
    entry = aff("PyPI", "x", Event(introduced="1.0"), Event(last_affected="1.5"))
    assert match(comp("pkg:pypi/x@1.5"), entry) is not None
    found = match(comp("pkg:pypi/x@1.2"), entry)
    assert found is not None and found.range == "ECOSYSTEM >=1.0, <=1.5" and found.fixed is None
    assert match(comp("pkg:pypi/x@1.5.1"), entry) is None
    assert match(comp("pkg:pypi/x@0.9"), entry) is None


def test_limit_caps_the_range() -> None:
    entry = aff("npm", "x", Event(introduced="0"), Event(limit="2.0.0"), kind="SEMVER")
    assert match(comp("pkg:npm/x@1.9.9"), entry) is not None
    verdict = explain(comp("pkg:npm/x@2.0.0"), entry)
    assert not verdict.affected and "limit" in verdict.reason


def test_several_intervals_in_one_range_in_any_order() -> None:
    entry = aff(
        "PyPI",
        "x",
        Event(fixed="2.0.1"),
        Event(introduced="3.0"),
        Event(introduced="1.0"),
        Event(fixed="3.2"),
    )
    assert match(comp("pkg:pypi/x@1.5"), entry) is not None
    assert match(comp("pkg:pypi/x@2.5"), entry) is None
    found = match(comp("pkg:pypi/x@3.1"), entry)
    assert found is not None and found.fixed == "3.2"


def test_introduced_zero_without_fix_is_every_version() -> None:
    found = match(comp("pkg:pypi/x@0.0.1"), aff("PyPI", "x", Event(introduced="0")))
    assert found is not None and found.range == "ECOSYSTEM all versions"


def test_git_ranges_never_match_and_say_so() -> None:
    entry = Affected(
        ecosystem="PyPI",
        name="x",
        ranges=[
            Range(
                type="GIT",
                repo="https://example.com/x",
                events=[Event(introduced="0"), Event(fixed="abc123")],
            )
        ],
    )
    verdict = explain(comp("pkg:pypi/x@1.0"), entry)
    assert not verdict.affected and "GIT ranges" in verdict.reason


def test_unparsable_version_gives_no_match_and_a_reason() -> None:
    entry = aff("PyPI", "x", Event(introduced="0"), Event(fixed="2.0"))
    verdict = explain(comp("pkg:pypi/x@not-a-version"), entry)
    assert not verdict.affected and "not a valid PyPI version" in verdict.reason
    bad_event = aff("PyPI", "x", Event(introduced="0"), Event(fixed="###"))
    verdict = explain(comp("pkg:pypi/x@1.0"), bad_event)
    assert not verdict.affected and "fixed='###'" in verdict.reason


def test_explicit_version_list() -> None:
    entry = aff("Go", "example.com/m", versions=["1.2.3", "1.2.4"])
    found = match(comp("pkg:golang/example.com/m@v1.2.3"), entry)
    assert found is not None and found.reason == "version-list"
    assert match(comp("pkg:golang/example.com/m@v1.2.5"), entry) is None


def test_unmatchable_and_foreign_components() -> None:
    entry = aff("PyPI", "x", Event(introduced="0"))
    unmatchable = Component(key="k", name="x", version="1.0", purl="bad", matchable=False)
    assert explain(unmatchable, entry).reason == "component has no valid purl"
    assert not explain(comp("pkg:npm/x@1.0.0"), entry).affected
    no_version = comp("pkg:pypi/x")
    assert explain(no_version, entry).reason == "component has no version"


def test_sbom_embedded_reference_matches_by_key() -> None:
    component = comp("pkg:maven/a/b@1.0")
    entry = Affected(ref=component.key)
    found = match(component, entry)
    assert found is not None and found.reason == "sbom-reference"


def test_package_keys_and_ecosystem_names() -> None:
    assert component_package(comp("pkg:maven/org.yaml/snakeyaml@1.23")) == (
        "Maven",
        "org.yaml:snakeyaml",
    )
    assert component_package(comp("pkg:npm/%40babel/core@7.0.0")) == ("npm", "@babel/core")
    assert component_package(comp("pkg:golang/github.com/gin-gonic/gin@v1.4.0")) == (
        "Go",
        "github.com/gin-gonic/gin",
    )
    assert component_package(comp("pkg:pypi/Zope.Interface@5")) == ("PyPI", "zope-interface")
    assert component_package(comp("pkg:deb/ubuntu/openssl@3")) == ("Ubuntu", "openssl")
    assert affected_package(Affected(ecosystem="Debian:12", name="openssl")) == (
        "Debian",
        "openssl",
    )
    assert affected_package(Affected(purl="pkg:pypi/PyYAML")) == ("PyPI", "pyyaml")
    assert base_ecosystem("Alpine:v3.18") == "Alpine"
    for ecosystem in (
        "PyPI",
        "npm",
        "Maven",
        "Go",
        "crates.io",
        "NuGet",
        "RubyGems",
        "Debian",
        "Alpine",
        "Packagist",
        "Hex",
        "Pub",
    ):
        assert ecosystem in supported_ecosystems()
        purl_type = purl_type_for_ecosystem(ecosystem)
        assert purl_type is not None
        assert ecosystem_for_purl_type(purl_type) == ecosystem
    assert ecosystem_for_purl_type("unknown-type") is None


def test_version_list_uses_ecosystem_equality() -> None:
    # PEP 440: 1.0 == 1.0.0; the list is compared with the ecosystem's rules, not as text
    entry = aff("PyPI", "x", versions=["1.0", "2.0"])
    found = match(comp("pkg:pypi/x@1.0.0"), entry)
    assert found is not None and found.reason == "version-list"
    assert match(comp("pkg:pypi/x@1.0.1"), entry) is None


# --- hostile input ------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.sampled_from(
        [
            "PyPI",
            "npm",
            "Maven",
            "Go",
            "crates.io",
            "NuGet",
            "RubyGems",
            "Debian:11",
            "Alpine:v3.18",
            "Packagist",
            "Hex",
            "Pub",
            "Hackage",
        ]
    ),
    st.text(max_size=12),
    st.lists(
        st.tuples(
            st.sampled_from(["introduced", "fixed", "last_affected", "limit"]),
            st.text(min_size=1, max_size=10),
        ),
        max_size=5,
    ),
    st.sampled_from(["SEMVER", "ECOSYSTEM"]),
    st.lists(st.text(max_size=6), max_size=3),
)
def test_any_version_text_gives_a_verdict_never_an_exception(
    ecosystem: str, version: str, events: list[tuple[str, str]], kind: str, versions: list[str]
) -> None:
    purl_type = purl_type_for_ecosystem(ecosystem) or "generic"
    component = Component(
        key="k",
        name="n",
        version=version or None,
        purl="pkg:x/n",
        purl_type=purl_type,
        purl_name="n",
        purl_namespace="debian" if purl_type == "deb" else None,
    )
    entry = Affected(
        ecosystem=ecosystem,
        name="n",
        versions=versions,
        ranges=[Range(type=kind, events=[Event(**{k: v}) for k, v in events])],  # type: ignore[arg-type]
    )
    verdict = explain(component, entry)
    assert verdict.affected is (verdict.match is not None)
    assert verdict.reason


def test_generic_semver_ranges_for_ecosystems_without_own_rules() -> None:
    semver = aff("Hackage", "aeson", Event(introduced="0"), Event(fixed="2.0.1"), kind="SEMVER")
    assert match(comp("pkg:hackage/aeson@1.5.6"), semver) is not None
    assert match(comp("pkg:hackage/aeson@2.0.1"), semver) is None
    native = aff("Hackage", "aeson", Event(introduced="0"), Event(fixed="2.0.1"))
    verdict = explain(comp("pkg:hackage/aeson@1.5.6"), native)
    assert not verdict.affected and "no version rules" in verdict.reason
    conan = aff("ConanCenter", "zlib", Event(introduced="1.2.0"), Event(fixed="1.2.12"))
    assert match(comp("pkg:conan/zlib@1.2.11"), conan) is not None
