"""VEX and triage with history, and the impact of a vulnerability across the graph."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from hyper_registry import Registry
from hyper_registry.core.errors import Invalid, NotFound
from hyper_registry.kinds.security.index import SecurityIndex

from .index_helpers import cyclonedx, import_fixture_advisories, index

__all__ = ["index"]

MINIMAL: dict[str, dict[str, Any]] = {
    "model": {"framework": "xgboost"},
    "plugin": {"runtime": "wasm", "module": {"wat": "(module)"}},
    "infra": {
        "templateType": "terraform",
        "providers": ["aws"],
        "source": 'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n',
    },
}
LODASH = "GHSA-35jh-r3h4-6jhm.json"  # CVE-2021-23337, lodash < 4.17.21, CVSS 3.1 7.2


def doc(ref: str, relations: list[tuple[str, str]] | None = None, **spec: Any) -> dict[str, Any]:
    kind, rest = ref.split(":", 1)
    ns, rest = rest.split("/", 1)
    name, version = rest.split("@", 1)
    body: dict[str, Any] = {
        "apiVersion": "hyper-registry/v1",
        "kind": kind,
        "metadata": {"namespace": ns, "name": name, "version": version},
        "spec": spec or dict(MINIMAL.get(kind, {})),
    }
    if relations:
        body["relations"] = [{"type": t, "target": x} for t, x in relations]
    return body


@pytest.fixture
def world(registry: Registry, index: SecurityIndex) -> SecurityIndex:
    """A plugin used by an edge service that calls the payments API; the API serves a model
    and a Helm chart deploys it. The plugin and the API ship lodash 4.17.20."""
    registry.apply_many(
        [
            doc("model:risk/fraud@2.0.0"),
            doc("plugin:edge/scrubber@0.4.1"),
            doc("service:pay/api@3.4.0", [("uses", "model:risk/fraud@2.0.0")]),
            doc(
                "service:edge/gateway@5.2.0",
                [("uses", "plugin:edge/scrubber@0.4.1"), ("calls", "service:pay/api@3.4.0")],
            ),
            {
                **doc("infra:pay/chart@1.0.0"),
                "relations": [{"type": "deploys", "target": "service:pay/api@3.4.0"}],
            },
        ]
    )
    lodash = [("lodash", "4.17.20", "pkg:npm/lodash@4.17.20")]
    index.import_sbom(cyclonedx(lodash, name="scrubber", version="0.4.1"), namespace="edge")
    index.import_sbom(cyclonedx(lodash, name="api", version="3.4.0"), namespace="pay")
    index.import_sbom(
        cyclonedx([("lodash", "4.17.21", "pkg:npm/lodash@4.17.21")], name="other", version="1.0.0"),
        namespace="pay",
    )
    import_fixture_advisories(index, LODASH)
    return index


def refs(impact: dict[str, Any]) -> dict[str, list[str]]:
    return {
        h["ref"]: [f"{p['relation']} {p['ref']}" for p in h["path"]] for h in impact["affected"]
    }


def test_impact_by_id_and_alias(world: SecurityIndex) -> None:
    by_alias = world.impact("CVE-2021-23337")
    assert world.impact("ghsa-35jh-r3h4-6jhm")["affected"] == by_alias["affected"]
    assert [s["ref"] for s in by_alias["sboms"]] == [
        "security:edge/scrubber-sbom@0.4.1",
        "security:pay/api-sbom@3.4.0",
    ]
    hits = refs(by_alias)
    assert hits["plugin:edge/scrubber@0.4.1"] == [
        "affects security:edge/scrubber-sbom@0.4.1",
        "describes plugin:edge/scrubber@0.4.1",
    ]
    # reached at the same depth through both SBOMs: the tie goes to the relation name
    assert hits["service:edge/gateway@5.2.0"] == [
        "affects security:pay/api-sbom@3.4.0",
        "describes service:pay/api@3.4.0",
        "calledBy service:edge/gateway@5.2.0",
    ]
    # what the affected API runs with: the model it serves, the chart that deploys it
    assert hits["model:risk/fraud@2.0.0"][-1] == "uses model:risk/fraud@2.0.0"
    assert hits["infra:pay/chart@1.0.0"][-1] == "deployedBy infra:pay/chart@1.0.0"
    assert "security:pay/other-sbom@1.0.0" not in {s["ref"] for s in by_alias["sboms"]}
    with pytest.raises(NotFound):
        world.impact("CVE-1999-0001")


def test_impact_respects_namespaces(world: SecurityIndex) -> None:
    seen = world.impact("CVE-2021-23337", namespaces=["edge"])
    assert [s["ref"] for s in seen["sboms"]] == ["security:edge/scrubber-sbom@0.4.1"]
    assert all(h["ref"].split(":")[1].startswith("edge/") for h in seen["affected"])


def test_not_affected_artifact_leaves_the_impact_and_history_records_it(
    world: SecurityIndex,
) -> None:
    with pytest.raises(Invalid):
        world.triage("CVE-2021-23337", status="not_affected", artifact="service:pay/api@3.4.0")
    out = world.triage(
        "CVE-2021-23337",
        status="not_affected",
        artifact="service:pay/api@3.4.0",
        justification="vulnerable_code_not_in_execute_path",
        actor="alice",
    )
    assert [f["status"] for f in out["findings"]] == ["not_affected"]
    impact = world.impact("CVE-2021-23337")
    hits = refs(impact)
    assert "service:pay/api@3.4.0" not in hits
    assert "infra:pay/chart@1.0.0" not in hits
    assert "plugin:edge/scrubber@0.4.1" in hits
    assert [f["sbom"] for f in impact["suppressed"]] == ["security:pay/api-sbom@3.4.0"]
    assert world.summary("service:pay/api@3.4.0") == {
        "critical": 0,
        "high": 0,
        "medium": 0,
        "low": 0,
        "unknown": 0,
        "unpatched": 0,
        "suppressed": 1,
    }
    finding = world.finding(out["findings"][0]["id"])
    assert [(h["state"], h["actor"]) for h in finding["history"]] == [
        ("open", "registry"),
        ("not_affected", "alice"),
    ]
    assert finding["history"][1]["justification"] == "vulnerable_code_not_in_execute_path"
    # a later statement wins: confirmed affected again
    world.triage("GHSA-35jh-r3h4-6jhm", status="affected", artifact="service:pay/api", actor="bob")
    assert world.summary("service:pay/api@3.4.0")["high"] == 1
    assert world.finding(finding["id"])["history"][-1]["actor"] == "bob"


def test_component_statement_and_new_findings_inherit_it(
    registry: Registry, index: SecurityIndex
) -> None:
    import_fixture_advisories(index, LODASH)
    with pytest.raises(NotFound):
        index.triage("CVE-2000-0001", status="fixed", component="pkg:npm/lodash")
    index.triage(
        "CVE-2021-23337",
        status="not_affected",
        component="pkg:npm/lodash",
        statement="template() is never called",
    )
    # an SBOM imported later: its finding is suppressed from the start
    ref = index.import_sbom(cyclonedx([("lodash", "4.17.20", "pkg:npm/lodash@4.17.20")]))["ref"]
    [finding] = index.findings(ref)
    assert (finding["status"], finding["suppressed"]) == ("not_affected", True)


def test_vex_entry_and_cyclonedx_vex(registry: Registry, index: SecurityIndex) -> None:
    import_fixture_advisories(index, LODASH)
    embedded = {
        "vulnerabilities": [
            {
                "id": "CVE-2021-23337",
                "ratings": [{"severity": "high"}],
                "affects": [{"ref": "ref-lodash-4.17.20"}],
                "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
            }
        ]
    }
    data = cyclonedx([("lodash", "4.17.20", "pkg:npm/lodash@4.17.20")], extra=embedded)
    report = index.import_sbom(data)
    found = index.findings(report["ref"])
    # the stored advisory and the SBOM's own record both match; the VEX suppresses both
    assert sorted(f["advisory"] for f in found) == ["CVE-2021-23337", "GHSA-35jh-r3h4-6jhm"]
    assert all(f["status"] == "not_affected" for f in found)
    # a vex entry applied through the pipeline
    registry.apply(doc("service:pay/api@3.4.0"))
    ref = index.import_sbom(
        cyclonedx([("lodash", "4.17.15", "pkg:npm/lodash@4.17.15")], name="api", version="3.4.0")
    )["ref"]
    registry.apply(
        {
            **doc(
                "security:pay/api-lodash@2026-01-01",
                type="vex",
                vulnerability="CVE-2021-23337",
                artifact="service:pay/api@3.4.0",
                state="under_investigation",
            ),
            "metadata": {
                "namespace": "pay",
                "name": "api-lodash",
                "version": "2026-01-01",
                "owner": "team-pay",
            },
        }
    )
    [finding] = index.findings(ref)
    assert finding["status"] == "under_investigation"
    registry.unregister("security:pay/api-lodash@2026-01-01")
    assert index.findings(ref)[0]["status"] == "open"


def test_openvex_document(index: SecurityIndex) -> None:
    import_fixture_advisories(index, LODASH)
    ref = index.import_sbom(cyclonedx([("lodash", "4.17.20", "pkg:npm/lodash@4.17.20")]))["ref"]
    openvex = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/1",
        "author": "security@example.com",
        "timestamp": "2024-01-01T00:00:00Z",
        "version": 1,
        "statements": [
            {
                "vulnerability": {"name": "CVE-2021-23337"},
                "products": [{"@id": "pkg:npm/lodash@4.17.20"}],
                "status": "fixed",
            }
        ],
    }
    out = index.import_openvex(orjson.dumps(openvex), actor="vex-bot")
    assert out == {"statements": 1, "findings": 1}
    [finding] = index.findings(ref)
    assert finding["status"] == "fixed"
    assert index.summary(ref)["suppressed"] == 1
