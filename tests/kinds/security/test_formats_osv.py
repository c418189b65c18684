"""OSV advisories (JSON and YAML), directories and zip archives (tests/fixtures/security/osv)."""

from __future__ import annotations

import contextlib
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyper_registry.core.errors import HyperRegistryError, Invalid, TooLarge
from hyper_registry.kinds.security.formats import (
    AdvisoryError,
    Limits,
    iter_advisories,
    parse_advisory,
    parse_openvex,
    parse_sbom,
)
from hyper_registry.kinds.security.parsed import Advisory

FIX = Path(__file__).parents[2] / "fixtures" / "security" / "osv"


def load(name: str) -> bytes:
    return (FIX / name).read_bytes()


def test_log4shell_ghsa_json() -> None:
    adv = parse_advisory(load("GHSA-jfh8-c2jp-5v3q.json"))
    assert adv.id == "GHSA-jfh8-c2jp-5v3q"
    assert adv.aliases == ["CVE-2021-44228"]
    assert adv.severity[0].type == "CVSS_V3"
    assert adv.severity[0].vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
    assert adv.severity_label == "critical"  # database_specific.severity CRITICAL
    first = adv.affected[0]
    assert (first.ecosystem, first.name) == ("Maven", "org.apache.logging.log4j:log4j-core")
    (rng,) = first.ranges
    assert rng.type == "ECOSYSTEM"
    assert [e.model_dump(exclude_none=True) for e in rng.events] == [
        {"introduced": "2.13.0"},
        {"fixed": "2.15.0"},
    ]
    assert adv.published and adv.modified and adv.withdrawn is None
    assert any("nvd.nist.gov" in r for r in adv.references)


def test_moderate_is_medium() -> None:
    assert parse_advisory(load("GHSA-269g-pwp5-87pp.json")).severity_label == "medium"


def test_go_advisory_semver_range_and_pseudo_version() -> None:
    adv = parse_advisory(load("GO-2022-0603.json"))
    assert adv.aliases == ["CVE-2022-28948", "GHSA-hp87-p4gw-j4gq"]
    (rng,) = adv.affected[0].ranges
    assert rng.type == "SEMVER"
    assert rng.events[1].fixed == "3.0.0-20220521103104-8f96da9f5d5e"
    assert adv.severity == []


def test_pysec_yaml_withdrawn_and_versions_stay_text() -> None:
    adv = parse_advisory(load("PYSEC-2022-43059.yaml"))
    assert adv.withdrawn == "2023-11-08T00:54:24Z"
    versions = adv.affected[0].versions
    assert "0.1" in versions and "0.10.0" in versions
    assert all(isinstance(v, str) for v in versions)
    assert adv.affected[0].purl == "pkg:pypi/aiohttp"


def test_yaml_numbers_are_not_turned_into_floats() -> None:
    text = b"id: X-1\nmodified: 2024-01-01T00:00:00Z\naffected:\n- package: {name: a, ecosystem: PyPI}\n  versions: [1.10, 2.0]\n"
    adv = parse_advisory(text)
    assert adv.affected[0].versions == ["1.10", "2.0"]
    assert adv.modified == "2024-01-01T00:00:00Z"


def test_yaml_aliases_are_refused() -> None:
    text = b"id: X-1\na: &x [1, 2]\nb: *x\n"
    with pytest.raises(Invalid) as err:
        parse_advisory(text, where="bomb.yaml")
    assert "aliases are not accepted" in str(err.value)
    assert err.value.problems[0].path.startswith("bomb.yaml:line 3")


def test_pysec_git_and_ecosystem_ranges() -> None:
    adv = parse_advisory(load("PYSEC-2023-212.yaml"))
    types = [r.type for r in adv.affected[0].ranges]
    assert types == ["GIT", "ECOSYSTEM"]
    assert adv.affected[0].ranges[0].repo == "https://github.com/urllib3/urllib3"


def test_mapping_input_and_pointer_errors() -> None:
    doc = json.loads(load("GHSA-35jh-r3h4-6jhm.json"))
    assert parse_advisory(doc).id == "GHSA-35jh-r3h4-6jhm"
    doc["affected"][1]["ranges"][0]["type"] = "CALVER"
    doc["affected"][0]["ranges"][0]["events"][0] = {"introduced": "0", "fixed": "1"}
    with pytest.raises(Invalid) as err:
        parse_advisory(doc, where="x.json")
    paths = [p.path for p in err.value.problems]
    assert "x.json:/affected/0/ranges/0/events/0" in paths
    assert "x.json:/affected/1/ranges/0/type" in paths


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ({"summary": "no id"}, "/id"),
        ({"id": 5}, "/id"),
        ({"id": "X", "affected": [{"package": {"name": "a"}}]}, "/affected/0/package/ecosystem"),
        (
            {
                "id": "X",
                "affected": [{"ranges": [{"type": "GIT", "events": [{"introduced": "0"}]}]}],
            },
            "/affected/0/ranges/0/repo",
        ),
        (
            {"id": "X", "affected": [{"ranges": [{"type": "SEMVER", "events": [{"fixed": "1"}]}]}]},
            "/affected/0/ranges/0/events",
        ),
        ({"id": "X", "aliases": "CVE-1"}, "/aliases"),
    ],
)
def test_bad_records_are_located(doc: dict[str, object], where: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_advisory(doc)
    assert where in [p.path for p in err.value.problems]


def test_too_large_record() -> None:
    with pytest.raises(TooLarge):
        parse_advisory(b"{" + b" " * (9 * 1024 * 1024) + b"}")


def test_iter_directory_reads_every_fixture() -> None:
    items = list(iter_advisories(FIX))
    assert all(isinstance(i, Advisory) for i in items)
    assert len(items) == 19
    assert items[0].id == "GHSA-269g-pwp5-87pp"  # stable (sorted) order


def test_bad_file_in_a_directory_does_not_stop_the_rest(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(load("GO-2020-0001.json"))
    (tmp_path / "b.json").write_text('{"id": ')
    (tmp_path / "c.yaml").write_bytes(load("PYSEC-2024-60.yaml"))
    (tmp_path / "README.md").write_text("not an advisory")
    items = list(iter_advisories(tmp_path))
    assert [type(i).__name__ for i in items] == ["Advisory", "AdvisoryError", "Advisory"]
    error = items[1]
    assert isinstance(error, AdvisoryError)
    assert error.file == "b.json" and "not valid JSON" in error.reason


def test_single_file(tmp_path: Path) -> None:
    (item,) = list(iter_advisories(FIX / "GO-2020-0017.json"))
    assert isinstance(item, Advisory) and item.id == "GO-2020-0017"
    (missing,) = list(iter_advisories(tmp_path / "nope.json"))
    assert isinstance(missing, AdvisoryError)


def test_osv_zip_with_zip_slip_and_bad_entries(tmp_path: Path) -> None:
    archive = tmp_path / "PyPI-all.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("PYSEC-2021-142.yaml", load("PYSEC-2021-142.yaml"))
        zf.writestr("GHSA-34jh-p97f-mpxf.json", load("GHSA-34jh-p97f-mpxf.json"))
        zf.writestr("../../escape.json", load("GO-2020-0001.json"))
        zf.writestr("/abs.json", load("GO-2020-0001.json"))
        zf.writestr("broken.json", "{")
        zf.writestr("notes.txt", "ignored")
    items = list(iter_advisories(archive))
    ok = [i.id for i in items if isinstance(i, Advisory)]
    errors = {i.file: i.reason for i in items if isinstance(i, AdvisoryError)}
    assert ok == ["PYSEC-2021-142", "GHSA-34jh-p97f-mpxf"]
    assert "zip-slip" in errors["PyPI-all.zip!../../escape.json"]
    assert "zip-slip" in errors["PyPI-all.zip!/abs.json"]
    assert "not valid JSON" in errors["PyPI-all.zip!broken.json"]
    assert not (tmp_path.parent / "escape.json").exists()


def test_zip_bomb_guard(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.json", b"{" + b" " * (5 * 1024 * 1024) + b"}")
        zf.writestr("ok.json", load("GO-2020-0001.json"))
    items = list(iter_advisories(archive))
    assert isinstance(items[0], AdvisoryError) and "ratio" in items[0].reason
    assert isinstance(items[1], Advisory)
    small = Limits(max_entry_bytes=1000)
    items = list(iter_advisories(archive, limits=small))
    assert "over the limit" in str(items[0])
    assert isinstance(items[1], AdvisoryError)  # GO-2020-0001 is 1628 bytes


def test_zip_total_limit_stops(tmp_path: Path) -> None:
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in ("GO-2020-0001.json", "GO-2020-0017.json", "GO-2020-0019.json"):
            zf.writestr(name, load(name))
    items = list(iter_advisories(archive, limits=Limits(max_total_bytes=4000)))
    assert [type(i).__name__ for i in items] == ["Advisory", "Advisory", "AdvisoryError"]
    assert "stopped" in str(items[2])


def test_zip_inside_a_directory(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "Go.zip", "w") as zf:
        zf.writestr("GO-2021-0113.json", load("GO-2021-0113.json"))
    (item,) = list(iter_advisories(tmp_path))
    assert isinstance(item, Advisory) and item.id == "GO-2021-0113"


# --- hostile input ------------------------------------------------------------------------


KEYS = [
    "id",
    "affected",
    "package",
    "ecosystem",
    "name",
    "ranges",
    "type",
    "events",
    "introduced",
    "fixed",
    "versions",
    "severity",
    "score",
    "aliases",
    "purl",
    "repo",
    "database_specific",
    "statements",
    "vulnerability",
    "status",
    "products",
    "bom-ref",
]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(JSON)
def test_hostile_structures_only_raise_domain_errors(doc: object) -> None:
    attempts = [
        lambda: parse_advisory(doc if isinstance(doc, dict) else {"id": doc}),
        lambda: parse_advisory(json.dumps(doc).encode()),
        lambda: parse_openvex(
            json.dumps({"@context": "https://openvex.dev/ns/v0.2.0", "statements": doc}).encode()
        ),
        lambda: parse_sbom(
            json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": doc}).encode()
        ),
    ]
    for attempt in attempts:
        with contextlib.suppress(HyperRegistryError):
            attempt()


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=300))
def test_hostile_bytes_only_raise_domain_errors(data: bytes) -> None:
    for parse in (parse_sbom, parse_advisory, parse_openvex):
        with contextlib.suppress(HyperRegistryError):
            parse(data)  # type: ignore[operator]


@pytest.mark.parametrize(
    "data",
    [b"[" * 100_000 + b"]" * 100_000, b"a: " + b"[" * 50_000 + b"]" * 50_000],
    ids=["json", "yaml"],
)
def test_deeply_nested_documents_are_refused(data: bytes) -> None:
    with pytest.raises(Invalid) as err:
        parse_advisory(data)
    assert err.value.problems[0].code == "too-deep"


def test_deeply_nested_sbom_json_is_refused() -> None:
    with pytest.raises(Invalid) as err:
        parse_sbom(b'{"bomFormat": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert err.value.problems[0].code == "too-deep"
