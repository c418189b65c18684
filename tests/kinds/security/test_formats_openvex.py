"""OpenVEX documents (hand-written from the OpenVEX specification's examples)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hyper_registry.core.errors import Invalid
from hyper_registry.kinds.security.formats import detect, parse_openvex, parse_sbom

FIX = Path(__file__).parents[2] / "fixtures" / "security" / "openvex"


def test_v0_2_document() -> None:
    statements = parse_openvex((FIX / "example.openvex.json").read_bytes())
    assert [(s.vulnerability, s.status) for s in statements] == [
        ("CVE-2023-1255", "not_affected"),
        ("CVE-2021-44228", "affected"),
        ("CVE-2020-25649", "fixed"),
    ]
    first = statements[0]
    assert first.justification == "vulnerable_code_not_in_execute_path"
    assert first.products == ["pkg:oci/example-app@sha256%3Aabc123"]
    assert first.subcomponents == ["pkg:apk/wolfi/openssl@3.0.8-r0"]
    assert first.timestamp == "2023-07-01T10:00:00Z"  # inherited from the document
    assert statements[1].action == "Upgrade log4j-core to 2.17.1"
    assert statements[2].products == ["pkg:maven/com.example/app@1.1.0"]


def test_v0_0_string_forms() -> None:
    doc = {
        "@context": "https://openvex.dev/ns",
        "statements": [
            {
                "vulnerability": "CVE-2022-1471",
                "products": ["pkg:maven/org.yaml/snakeyaml@1.33"],
                "status": "under_investigation",
            }
        ],
    }
    (st,) = parse_openvex(json.dumps(doc).encode())
    assert (st.vulnerability, st.status, st.products) == (
        "CVE-2022-1471",
        "under_investigation",
        ["pkg:maven/org.yaml/snakeyaml@1.33"],
    )


@pytest.mark.parametrize(
    ("statement", "where"),
    [
        (
            {"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "p"}], "status": "nope"},
            "/statements/0/status",
        ),
        (
            {
                "vulnerability": {"name": "CVE-1"},
                "products": [{"@id": "p"}],
                "status": "not_affected",
            },
            "/statements/0",
        ),
        (
            {"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "p"}], "status": "affected"},
            "/statements/0",
        ),
        ({"vulnerability": {"name": "CVE-1"}, "status": "fixed"}, "/statements/0/products"),
        ({"products": [{"@id": "p"}], "status": "fixed"}, "/statements/0/vulnerability"),
        (
            {
                "vulnerability": "CVE-1",
                "products": ["p"],
                "status": "not_affected",
                "justification": "because",
            },
            "/statements/0/justification",
        ),
    ],
)
def test_spec_violations_are_located(statement: dict[str, object], where: str) -> None:
    doc = {"@context": "https://openvex.dev/ns/v0.2.0", "statements": [statement]}
    with pytest.raises(Invalid) as err:
        parse_openvex(json.dumps(doc).encode())
    assert err.value.problems[0].path == where


def test_not_openvex() -> None:
    with pytest.raises(Invalid):
        parse_openvex(b'{"bomFormat": "CycloneDX"}')
    data = (FIX / "example.openvex.json").read_bytes()
    assert detect(data).kind == "json"  # classified after decoding
    with pytest.raises(Invalid) as err:
        parse_sbom(data)
    assert "not an SBOM" in str(err.value)
