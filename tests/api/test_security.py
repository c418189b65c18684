"""``/v1/security``: SBOM and advisory import, summaries, findings, triage and impact,
with namespace visibility and roles as everywhere else."""

from __future__ import annotations

from pathlib import Path

import orjson

from .conftest import Api, Tokens, assert_problem

FIXTURES = Path(__file__).parent.parent / "fixtures" / "security-index"


def sbom(name: str = "shop", version: str = "1.0.0") -> bytes:
    return orjson.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "version": 1,
            "metadata": {"component": {"type": "application", "name": name, "version": version}},
            "components": [
                {
                    "type": "library",
                    "name": "lodash",
                    "version": "4.17.20",
                    "purl": "pkg:npm/lodash@4.17.20",
                },
            ],
        }
    )


def setup(api: Api, namespace: str = "team-a") -> dict[str, object]:
    advisory = (FIXTURES / "GHSA-35jh-r3h4-6jhm.json").read_bytes()
    r = api.post("/v1/security/advisories", content=advisory)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 1
    r = api.post(
        "/v1/security/sboms", content=sbom(), params={"namespace": namespace, "name": "shop-sbom"}
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_import_summary_findings_impact(api: Api) -> None:
    report = setup(api)
    assert report["ref"] == "security:team-a/shop-sbom@1.0.0"
    assert report["unlinked"] is True
    assert report["summary"] == {
        "critical": 0,
        "high": 1,
        "medium": 0,
        "low": 0,
        "unknown": 0,
        "unpatched": 1,
        "suppressed": 0,
    }
    r = api.get("/v1/security/summary", params={"ref": "security:team-a/shop-sbom"})
    assert r.json() == report["summary"]
    items = api.get("/v1/security/findings", params={"ref": report["ref"]}).json()["items"]
    assert [(f["advisory"], f["fixedVersion"]) for f in items] == [
        ("GHSA-35jh-r3h4-6jhm", "4.17.21")
    ]
    impact = api.get("/v1/security/vulnerabilities/CVE-2021-23337/impact").json()
    assert [s["ref"] for s in impact["sboms"]] == [report["ref"]]
    assert impact["advisories"][0]["severity"] == "high"
    one = api.get(f"/v1/security/findings/{items[0]['id']}").json()
    assert one["history"][0]["state"] == "open"
    portfolio = api.get("/v1/security/portfolio").json()["namespaces"]
    assert portfolio["team-a"]["high"] == 1


def test_triage_route(api: Api) -> None:
    report = setup(api)
    body = {
        "vulnerability": "CVE-2021-23337",
        "status": "not_affected",
        "artifact": str(report["ref"]),
    }
    assert_problem(api.post("/v1/security/triage", json=body), 422)
    body["justification"] = "vulnerable_code_not_present"
    r = api.post("/v1/security/triage", json=body)
    assert r.status_code == 200, r.text
    assert [f["status"] for f in r.json()["findings"]] == ["not_affected"]
    summary = api.get("/v1/security/summary", params={"ref": str(report["ref"])}).json()
    assert (summary["high"], summary["suppressed"]) == (0, 1)


def test_namespaces_and_roles(api: Api, tokens: Tokens) -> None:
    setup(api, namespace="team-b")
    team_a = api.as_(tokens.reader_a)
    assert_problem(
        team_a.get("/v1/security/summary", params={"ref": "security:team-b/shop-sbom"}), 404
    )
    assert_problem(
        team_a.get("/v1/security/findings", params={"ref": "security:team-b/shop-sbom"}), 404
    )
    impact = team_a.get("/v1/security/vulnerabilities/CVE-2021-23337/impact").json()
    assert impact["sboms"] == [] and impact["components"] == []
    assert team_a.get("/v1/security/portfolio").json()["namespaces"] == {}
    # a reader cannot import; a team-a writer cannot write into team-b
    assert_problem(api.as_(tokens.reader).post("/v1/security/sboms", content=sbom()), 403)
    writer_a = api.as_(tokens.writer_a)
    assert_problem(
        writer_a.post("/v1/security/sboms", content=sbom(), params={"namespace": "team-b"}), 404
    )
    r = writer_a.post("/v1/security/sboms", content=sbom(), params={"namespace": "team-a"})
    assert r.status_code == 201, r.text
    assert_problem(writer_a.post("/v1/security/advisories", content=b"{}"), 404)


def test_bad_documents(api: Api) -> None:
    assert_problem(api.post("/v1/security/sboms", content=b"not an sbom"), 422)
    dtd = b'<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY x SYSTEM "file:///etc/passwd">]><bom/>'
    problem = assert_problem(api.post("/v1/security/sboms", content=dtd), 422)
    assert "passwd" not in str(problem.get("detail"))
    r = api.post("/v1/security/advisories", content=b'{"id": "X"}')
    assert r.status_code == 200
    assert r.json()["refused"] == 1
    assert_problem(api.get("/v1/security/vulnerabilities/CVE-1999-0001/impact"), 404)
    assert_problem(api.get("/v1/security/summary", params={"ref": "nonsense"}), 422)
