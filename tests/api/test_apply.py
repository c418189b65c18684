"""POST /v1/apply: one document or a list, JSON or YAML, atomic or per item."""

from __future__ import annotations

import orjson
import yaml

from hyper_registry import Registry

from .conftest import Api, all_examples, assert_problem, doc, example_text


def test_apply_single_document(api: Api) -> None:
    r = api.post("/v1/apply", json=doc("model:team-a/fraud@1.0.0"))
    assert r.status_code == 200
    body = r.json()
    assert body["counts"]["created"] == 1
    [item] = body["results"]
    assert item["outcome"] == "created" and item["ref"] == "model:team-a/fraud@1.0.0"
    again = api.post("/v1/apply", json=doc("model:team-a/fraud@1.0.0")).json()
    assert again["results"][0]["outcome"] == "unchanged"
    changed = api.post("/v1/apply", json=doc("model:team-a/fraud@1.0.0", title="x")).json()
    assert changed["results"][0]["outcome"] == "updated"
    assert changed["results"][0]["revision"] == 2


def test_apply_single_refusal_is_the_problem(api: Api) -> None:
    p = assert_problem(api.post("/v1/apply", json=doc("model:team-a/fraud@x", spec={})), 422)
    assert p["code"] == "invalid"


def test_apply_all_six_kinds_as_json_list(api: Api) -> None:
    docs = all_examples()
    r = api.post("/v1/apply", json=docs)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [i["index"] for i in body["results"]] == list(range(len(docs)))
    assert body["counts"]["created"] == len(docs)


def test_apply_yaml_stream(api: Api) -> None:
    text = "\n---\n".join(
        example_text(n) for n in ("dataset", "infra", "model", "plugin", "security", "service")
    )
    r = api.post("/v1/apply", content=text, headers={"Content-Type": "application/yaml"})
    assert r.status_code == 200, r.text
    assert r.json()["counts"]["created"] == 7


def test_apply_yaml_list(api: Api) -> None:
    text = yaml.safe_dump([doc("model:team-a/a@1.0.0"), doc("model:team-a/b@1.0.0")])
    r = api.post("/v1/apply", content=text, headers={"Content-Type": "application/x-yaml"})
    assert r.status_code == 200
    assert r.json()["counts"]["created"] == 2


def test_atomic_list_refuses_everything(api: Api, reg: Registry) -> None:
    docs = [
        doc("model:team-a/a@1.0.0"),
        doc("model:team-a/b@1.0.0", spec={"unknown": 1}),
        doc("model:team-a/c@1.0.0"),
        {"kind": "model", "metadata": {"namespace": "team-a", "name": "Bad Name", "version": "1"}},
    ]
    p = assert_problem(api.post("/v1/apply", json=docs), 422, "batch-refused")
    paths = [e["path"] for e in p["errors"]]
    assert "[1].spec.unknown" in paths
    assert any(path.startswith("[3]") for path in paths)
    assert reg.count() == 0


def test_per_item_list_writes_the_good_ones(api: Api, reg: Registry) -> None:
    docs = [
        doc("model:team-a/a@1.0.0"),
        doc("model:team-a/b@1.0.0", spec={"unknown": 1}),
        doc("model:team-a/c@1.0.0"),
    ]
    r = api.post("/v1/apply?atomic=false", json=docs)
    assert r.status_code == 200
    body = r.json()
    assert body["counts"] == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
        "refused": 1,
    }
    outcomes = [(i["index"], i["outcome"]) for i in body["results"]]
    assert outcomes == [(0, "created"), (1, "refused"), (2, "created")]
    err = body["results"][1]["error"]
    assert err["status"] == 422
    assert "spec.unknown" in {e["path"] for e in err["errors"]}
    assert reg.count() == 2


def test_empty_list(api: Api) -> None:
    r = api.post("/v1/apply", json=[])
    assert r.status_code == 200
    assert r.json()["results"] == []


def test_non_document_items(api: Api) -> None:
    p = assert_problem(api.post("/v1/apply", json=[1, "x"]), 422, "batch-refused")
    assert {e["path"] for e in p["errors"]} == {"[0]", "[1]"}
    assert_problem(api.post("/v1/apply", json="just a string"), 422)


def test_apply_idempotency_key_single(api: Api, reg: Registry) -> None:
    h = {"Idempotency-Key": "apply-1"}
    first = api.post("/v1/apply", json=doc("model:team-a/a@1.0.0"), headers=h).json()
    second = api.post("/v1/apply", json=doc("model:team-a/a@1.0.0"), headers=h).json()
    assert second["results"][0]["outcome"] == "created"
    assert second["results"][0]["uid"] == first["results"][0]["uid"]
    assert len([c for c in reg.changes() if c.op == "create"]) == 1


def test_apply_records_the_actor(api: Api, reg: Registry) -> None:
    api.post("/v1/apply", json=[doc("model:team-a/a@1.0.0")])
    [change] = [c for c in reg.changes() if c.op == "create"]
    assert change.actor == "admin"


def test_apply_large_list_within_bulk_limit(api: Api, reg: Registry) -> None:
    docs = [doc(f"dataset:bulk/d{i}@v1") for i in range(1500)]
    body = orjson.dumps(docs)
    r = api.post("/v1/apply", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200
    assert r.json()["counts"]["created"] == 1500
    assert reg.count() == 1500
