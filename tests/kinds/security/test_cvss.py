"""CVSS scoring against the official scores of RedHatProductSecurity/cvss's test vectors
(tests/fixtures/security/cvss, see SOURCES.md), severity bands and advisory severity."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from hyper_registry.core.errors import Invalid
from hyper_registry.kinds.security.cvss import advisory_severity, score
from hyper_registry.kinds.security.formats import parse_advisory
from hyper_registry.kinds.security.parsed import Advisory, Severity

FIX = Path(__file__).parents[2] / "fixtures" / "security"


def vectors(name: str) -> list[tuple[str, tuple[float, ...]]]:
    out = []
    for line in (FIX / "cvss" / name).read_text().splitlines():
        if line.strip():
            vector, expected = line.rsplit(" - ", 1)
            value = ast.literal_eval(expected)
            out.append((vector, tuple(value) if isinstance(value, tuple) else (value,)))
    return out


@pytest.mark.parametrize(
    ("name", "version", "count"),
    [
        ("vectors_calculator3", "3.0", 2),
        ("vectors_simple31", "3.1", 2592),
        ("vectors_simple4", "4.0", 1058),
        ("vectors_security4", "4.0", 54),
    ],
)
def test_every_official_score(name: str, version: str, count: int) -> None:
    rows = vectors(name)
    assert len(rows) == count
    wrong = []
    for vector, expected in rows:
        got = score(vector)
        assert got.version == version
        mine = (got.base_score, got.temporal_score, got.environmental_score)[: len(expected)]
        if mine != tuple(float(x) for x in expected):
            wrong.append((vector, expected, mine))
    assert wrong == []


@pytest.mark.parametrize(
    ("vector", "version", "base", "severity"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "3.1", 10.0, "critical"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", "3.1", 7.5, "high"),
        ("CVSS:3.1/AV:L/AC:H/PR:L/UI:R/S:U/C:H/I:N/A:N", "3.1", 4.4, "medium"),
        ("CVSS:3.0/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", "3.0", 1.6, "low"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", "3.1", 0.0, "none"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "4.0", 9.3, "critical"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", "4.0", 0.0, "none"),
        # v2 has no critical and no none band: 10.0 is high, 0.0 is low
        ("AV:N/AC:L/Au:N/C:C/I:C/A:C", "2.0", 10.0, "high"),
        ("(AV:N/AC:L/Au:N/C:P/I:P/A:P)", "2.0", 7.5, "high"),
        ("AV:N/AC:M/Au:N/C:P/I:N/A:N", "2.0", 4.3, "medium"),
        ("AV:L/AC:H/Au:M/C:N/I:N/A:N", "2.0", 0.0, "low"),
    ],
)
def test_bands(vector: str, version: str, base: float, severity: str) -> None:
    got = score(vector)
    assert (got.version, got.base_score, got.severity) == (version, base, severity)


@pytest.mark.parametrize(
    "vector",
    [
        "",
        "CVSS:3.1/AV:N",
        "CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N",
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N",
        "AV:N/AC:L",
        "hello",
    ],
)
def test_malformed_vectors_are_invalid(vector: str) -> None:
    with pytest.raises(Invalid) as err:
        score(vector)
    assert err.value.problems[0].code == "bad-cvss"


def test_advisory_severity_takes_the_highest() -> None:
    adv = Advisory(
        id="X",
        severity=[
            Severity(type="CVSS_V2", vector="AV:N/AC:L/Au:N/C:P/I:P/A:P"),
            Severity(type="CVSS_V3", vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"),
            Severity(
                type="CVSS_V4",
                vector="CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            ),
        ],
    )
    assert advisory_severity(adv) == (10.0, "critical", [])


def test_real_advisories() -> None:
    log4shell = parse_advisory((FIX / "osv" / "GHSA-jfh8-c2jp-5v3q.json").read_bytes())
    assert advisory_severity(log4shell)[:2] == (10.0, "critical")
    junit = parse_advisory((FIX / "osv" / "GHSA-269g-pwp5-87pp.json").read_bytes())
    assert advisory_severity(junit)[:2] == (4.4, "medium")
    # Go advisories carry no vector and no database severity
    go = parse_advisory((FIX / "osv" / "GO-2020-0001.json").read_bytes())
    assert advisory_severity(go) == (None, "unknown", [])


def test_malformed_vector_is_reported_and_the_rest_scored() -> None:
    adv = Advisory(
        id="X",
        severity=[
            Severity(type="CVSS_V3", vector="CVSS:3.1/AV:N/garbage"),
            Severity(type="CVSS_V3", vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"),
        ],
    )
    value, severity, notes = advisory_severity(adv)
    assert (value, severity) == (7.5, "high")
    assert [n.where for n in notes] == ["/severity/0"]


def test_all_malformed_is_unknown_even_with_a_database_word() -> None:
    adv = Advisory(
        id="X", severity=[Severity(type="CVSS_V3", vector="nope")], severity_label="high"
    )
    value, severity, notes = advisory_severity(adv)
    assert (value, severity, len(notes)) == (None, "unknown", 1)


def test_database_severity_only_without_vectors() -> None:
    assert advisory_severity(Advisory(id="X", severity_label="medium")) == (None, "medium", [])


def test_word_valued_severity_types_count_as_the_database_word() -> None:
    adv = parse_advisory(
        {"id": "UBUNTU-CVE-2024-1", "severity": [{"type": "Ubuntu", "score": "medium"}]}
    )
    assert adv.severity_label == "medium"
    assert advisory_severity(adv) == (None, "medium", [])
