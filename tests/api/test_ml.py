"""Model and dataset routes: compare, aliases, files, imports, schema diff and check, quality."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from hyper_registry import Registry

from .conftest import Api, Tokens, assert_problem, doc, entry_url

ML = Path(__file__).resolve().parents[1] / "fixtures" / "ml"
ONNX = ML / "onnx" / "light_squeezenet.onnx"


def model(version: str, metrics: dict[str, float], ns: str = "risk", **spec: Any) -> dict[str, Any]:
    return doc(f"model:{ns}/fraud@{version}", spec={"metrics": metrics, **spec})


@pytest.fixture
def models(api: Api) -> None:
    for d in (
        model("1.0.0", {"accuracy": 0.90, "loss": 0.3}, primaryMetric="accuracy"),
        model("2.0.0", {"accuracy": 0.93, "loss": 0.4}, primaryMetric="accuracy"),
        model("1.0.0", {"accuracy": 0.99}, ns="team-a"),
    ):
        res = api.put(
            entry_url(f"model:{d['metadata']['namespace']}/fraud@{d['metadata']['version']}"),
            json=d,
        )
        assert res.status_code in (200, 201), res.text


def test_compare(api: Api, models: None) -> None:
    res = api.post(
        "/v1/models/compare",
        json={"refs": ["model:risk/fraud@1.0.0", "model:risk/fraud@2.0.0"]},
    )
    assert res.status_code == 200, res.text
    body = res.json()
    assert set(body) == {"metrics", "winners", "winner", "pareto"}
    assert body["winner"] == "model:risk/fraud@2.0.0"
    assert body["winners"] == {
        "accuracy": "model:risk/fraud@2.0.0",
        "loss": "model:risk/fraud@1.0.0",
    }
    assert body["pareto"] == ["model:risk/fraud@1.0.0", "model:risk/fraud@2.0.0"]
    bad = api.post("/v1/models/compare", json={"refs": ["model:risk/fraud@1.0.0"], "x": 1})
    assert_problem(bad, 422)
    assert_problem(api.post("/v1/models/compare", json={"refs": ["nope"]}), 422)


def test_compare_respects_namespaces(api: Api, tokens: Tokens, models: None) -> None:
    refs = {"refs": ["model:team-a/fraud@1.0.0", "model:risk/fraud@1.0.0"]}
    assert_problem(api.as_(tokens.reader_a).post("/v1/models/compare", json=refs), 404)
    ok = api.as_(tokens.reader_a).post("/v1/models/compare", json={"refs": refs["refs"][:1]})
    assert ok.status_code == 200


def test_aliases(api: Api, tokens: Tokens, models: None) -> None:
    url = "/v1/models/risk/fraud/aliases"
    assert api.put(url + "/champion", json={"version": "1.0.0"}).status_code == 200
    res = api.put(url + "/champion", json={"version": "2.0.0"})
    assert res.json() == {"alias": "champion", "ref": "model:risk/fraud@2.0.0", "version": "2.0.0"}
    assert api.get(entry_url("model:risk/fraud@champion")).json()["metadata"]["version"] == "2.0.0"
    body = api.get(url).json()
    assert body["aliases"] == {"champion": "2.0.0"}
    assert [(h["from"], h["to"]) for h in body["history"]] == [(None, "1.0.0"), ("1.0.0", "2.0.0")]
    assert_problem(api.as_(tokens.reader).put(url + "/champion", json={"version": "1.0.0"}), 403)
    assert_problem(api.as_(tokens.reader_a).get(url), 404)
    assert_problem(api.put(url + "/champion", json={"version": "9.0.0"}), 404)
    assert_problem(api.put(url + "/Bad%20Alias", json={"version": "1.0.0"}), 422)


def test_upload_download_and_limit(api: Api, reg: Registry, models: None) -> None:
    data = ONNX.read_bytes()
    url = "/v1/models/risk/fraud/versions/1.0.0/files"
    res = api.post(
        url,
        params={"name": "net.onnx"},
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert res.status_code == 201, res.text
    assert res.json()["sha256"] == "sha256:" + hashlib.sha256(data).hexdigest()
    got = api.get(url + "/net.onnx")
    assert got.status_code == 200 and got.content == data
    assert_problem(api.get(url + "/other.onnx"), 404)
    reg.settings.max_model_file_bytes = 4096
    big = api.post(
        url,
        params={"name": "big.bin"},
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert_problem(big, 413)


def test_import(api: Api, models: None) -> None:
    url = "/v1/models/risk/fraud/versions/3.0.0/import"
    res = api.post(
        url,
        params={"format": "onnx"},
        content=ONNX.read_bytes(),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert res.status_code == 200, res.text
    assert res.json()["entry"]["spec"]["opsets"] == {"ai.onnx": 9}
    card = (ML / "cards" / "openai-whisper.md").read_bytes()
    bad = api.post(
        url.replace("3.0.0", "3.1.0"),
        params={"format": "card"},
        content=card,
        headers={"Content-Type": "text/markdown"},
    )
    assert_problem(bad, 422)
    assert_problem(api.post(url, params={"format": "pickle"}, content=b"x"), 422)


def test_dataset_schema_diff_check_and_quality(api: Api) -> None:
    v1 = doc(
        "dataset:risk/tx@1",
        spec={
            "schema": {"fields": [{"name": "id", "type": "string"}]},
            "qualityThresholds": {"completeness": 0.9},
        },
    )
    assert api.put(entry_url("dataset:risk/tx@1"), json=v1).status_code == 201
    added: list[dict[str, Any]] = [{"name": "id", "type": "string"}, {"name": "n", "type": "int"}]
    v2 = doc("dataset:risk/tx@2", spec={"schema": {"fields": added}})
    res = api.put(entry_url("dataset:risk/tx@2"), json=v2)
    body = assert_problem(res, 422)
    assert [e["path"] for e in body["errors"]] == ["spec.schema", "spec.schema"]
    check = api.post("/v1/datasets/risk/tx/schema/check", json={"schema": {"fields": added}})
    assert check.json()["compatible"] is False
    ok = api.post(
        "/v1/datasets/risk/tx/schema/check",
        json={"schema": {"fields": added}, "compatibility": "FORWARD"},
    )
    assert ok.json()["compatible"] is True
    added[1]["default"] = 0
    assert api.put(entry_url("dataset:risk/tx@2"), json=v2).status_code == 201
    diff = api.get("/v1/datasets/risk/tx/versions/2/schema/diff").json()
    assert diff["from"] == "1" and [c["change"] for c in diff["changes"]] == ["added"]
    q = api.put("/v1/datasets/risk/tx/versions/1/quality", json={"quality": {"completeness": 0.2}})
    assert q.status_code == 200, q.text
    assert q.json()["breaches"] == [{"dimension": "completeness", "value": 0.2, "threshold": 0.9}]
    assert q.json()["alert"]["dataset"] == "dataset:risk/tx@1"
    bad = api.put("/v1/datasets/risk/tx/versions/1/quality", json={"quality": {"completeness": 2}})
    assert [e["path"] for e in assert_problem(bad, 422)["errors"]] == ["quality.completeness"]
