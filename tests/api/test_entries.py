"""One entry over HTTP: create, read, replace, delete, versions, aliases, relations."""

from __future__ import annotations

import json

import yaml

from hyper_registry import Registry

from .conftest import Api, Tokens, assert_problem, doc, entry_url, example, example_text

MODEL = "model:team-a/fraud@1.0.0"


def test_post_creates_with_location_and_etag(api: Api) -> None:
    r = api.post("/v1/entries", json=doc(MODEL, title="Fraud"))
    assert r.status_code == 201
    assert r.headers["location"] == "/v1/entries/model/team-a/fraud/versions/1.0.0"
    assert r.headers["etag"] == '"1"'
    body = r.json()
    assert body["kind"] == "model"
    assert body["metadata"]["revision"] == 1
    assert body["metadata"]["title"] == "Fraud"
    assert {"uid", "createdAt", "updatedAt", "contentHash"} <= set(body["metadata"])
    got = api.get(r.headers["location"])
    assert got.status_code == 200
    assert got.json() == body


def test_post_duplicate_is_409(api: Api) -> None:
    assert api.post("/v1/entries", json=doc(MODEL)).status_code == 201
    problem = assert_problem(api.post("/v1/entries", json=doc(MODEL)), 409, "already-exists")
    assert "model:team-a/fraud@1.0.0" in problem["detail"]


def test_post_yaml_example(api: Api) -> None:
    r = api.post(
        "/v1/entries",
        content=example_text("service"),
        headers={"Content-Type": "application/yaml"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["metadata"]["labels"] == {"tier": "gold", "exposure": "public"}


def test_get_latest_and_by_version_and_alias(api: Api) -> None:
    for version in ("1.0.0", "1.1.0"):
        assert api.post("/v1/entries", json=doc(f"model:team-a/fraud@{version}")).status_code == 201
    champion = doc("model:team-a/fraud@1.2.0", spec={"aliases": ["champion"]})
    assert api.post("/v1/entries", json=champion).status_code == 201
    assert api.get("/v1/entries/model/team-a/fraud").json()["metadata"]["version"] == "1.2.0"
    one = api.get("/v1/entries/model/team-a/fraud/versions/1.1.0")
    assert one.status_code == 200 and one.json()["metadata"]["version"] == "1.1.0"
    alias = api.get("/v1/entries/model/team-a/fraud/versions/champion")
    assert alias.status_code == 200 and alias.json()["metadata"]["version"] == "1.2.0"


def test_versions_list_with_aliases(api: Api) -> None:
    api.post("/v1/entries", json=doc("model:team-a/fraud@1.0.0", spec={"aliases": ["stable"]}))
    api.post("/v1/entries", json=doc("model:team-a/fraud@2.0.0"))
    r = api.get("/v1/entries/model/team-a/fraud/versions")
    assert r.status_code == 200
    body = r.json()
    assert body["versions"] == ["2.0.0", "1.0.0"]
    assert [e["metadata"]["version"] for e in body["items"]] == ["2.0.0", "1.0.0"]
    assert body["aliases"] == {"stable": "1.0.0"}
    assert body["nextCursor"] is None
    assert_problem(api.get("/v1/entries/model/team-a/nothing/versions"), 404, "not-found")


def test_get_missing_is_404_problem(api: Api) -> None:
    p = assert_problem(api.get("/v1/entries/model/team-a/nothing"), 404, "not-found")
    assert p["detail"] == "model:team-a/nothing not found"
    assert p["instance"] == "/v1/entries/model/team-a/nothing"
    assert_problem(api.get("/v1/entries/model/team-a/nothing/versions/1.0.0"), 404)


def test_unknown_kind_is_404(api: Api) -> None:
    p = assert_problem(api.get("/v1/entries/gizmo/team-a/x"), 404, "not-found")
    assert "unknown kind" in p["detail"]


def test_put_versioned_creates_then_replaces(api: Api) -> None:
    url = entry_url(MODEL)
    r = api.put(url, json=doc(MODEL, title="one"))
    assert r.status_code == 201
    assert r.headers["location"] == url and r.headers["etag"] == '"1"'
    r = api.put(url, json=doc(MODEL, title="two"))
    assert r.status_code == 200
    assert r.headers["etag"] == '"2"'
    assert r.json()["metadata"]["title"] == "two"
    same = api.put(url, json=doc(MODEL, title="two"))
    assert same.status_code == 200 and same.headers["etag"] == '"2"'


def test_put_unversioned_applies_the_body_version(api: Api) -> None:
    r = api.put("/v1/entries/model/team-a/fraud", json=doc("model:team-a/fraud@3.0.0"))
    assert r.status_code == 201
    assert r.headers["location"].endswith("/versions/3.0.0")


def test_put_with_yaml(api: Api) -> None:
    [service] = example("service")
    body = yaml.safe_dump(service)
    r = api.put(
        "/v1/entries/service/edge/api-gateway/versions/5.2.0",
        content=body,
        headers={"Content-Type": "application/yaml"},
    )
    assert r.status_code == 201, r.text


def test_put_path_and_body_must_agree(api: Api) -> None:
    other_ns = doc("model:team-b/fraud@1.0.0")
    p = assert_problem(api.put(entry_url(MODEL), json=other_ns), 422, "invalid")
    assert [e["path"] for e in p["errors"]] == ["metadata.namespace"]
    assert p["errors"][0]["code"] == "path-mismatch"
    other_version = doc("model:team-a/fraud@9.9.9")
    p = assert_problem(api.put(entry_url(MODEL), json=other_version), 422)
    assert [e["path"] for e in p["errors"]] == ["metadata.version"]
    p = assert_problem(api.put("/v1/entries/dataset/team-a/fraud", json=doc(MODEL)), 422)
    assert [e["path"] for e in p["errors"]] == ["kind"]
    p = assert_problem(api.put("/v1/entries/model/team-a/other", json=doc(MODEL)), 422)
    assert [e["path"] for e in p["errors"]] == ["metadata.name"]


def test_put_if_match(api: Api) -> None:
    url = entry_url(MODEL)
    api.put(url, json=doc(MODEL, title="one"))
    ok = api.put(url, json=doc(MODEL, title="two"), headers={"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["etag"] == '"2"'
    stale = api.put(url, json=doc(MODEL, title="three"), headers={"If-Match": '"1"'})
    p = assert_problem(stale, 409, "conflict")
    assert "revision 2" in p["detail"]
    assert api.get(url).json()["metadata"]["title"] == "two"
    weak = api.put(url, json=doc(MODEL, title="three"), headers={"If-Match": 'W/"2"'})
    assert weak.status_code == 200
    missing = api.put(
        entry_url("model:team-a/fraud@5.0.0"),
        json=doc("model:team-a/fraud@5.0.0"),
        headers={"If-Match": "*"},
    )
    assert_problem(missing, 404)
    assert_problem(api.put(url, json=doc(MODEL), headers={"If-Match": "nope"}), 400)


def test_put_if_none_match_star_creates_only(api: Api) -> None:
    url = entry_url(MODEL)
    assert api.put(url, json=doc(MODEL), headers={"If-None-Match": "*"}).status_code == 201
    assert_problem(
        api.put(url, json=doc(MODEL), headers={"If-None-Match": "*"}), 409, "already-exists"
    )
    assert_problem(api.put(url, json=doc(MODEL), headers={"If-None-Match": '"1"'}), 400)
    both = {"If-None-Match": "*", "If-Match": '"1"'}
    assert_problem(api.put(url, json=doc(MODEL), headers=both), 409, "conflict")


def test_delete_version_and_if_match(api: Api) -> None:
    url = entry_url(MODEL)
    api.put(url, json=doc(MODEL, title="one"))
    api.put(url, json=doc(MODEL, title="two"))
    assert_problem(api.delete(url, headers={"If-Match": '"1"'}), 409, "conflict")
    assert api.get(url).status_code == 200
    r = api.delete(url, headers={"If-Match": '"2"'})
    assert r.status_code == 204 and r.content == b""
    assert_problem(api.get(url), 404)
    assert_problem(api.delete(url), 404)


def test_delete_without_version_is_refused(api: Api) -> None:
    api.put(entry_url(MODEL), json=doc(MODEL))
    p = assert_problem(api.delete("/v1/entries/model/team-a/fraud"), 400, "version-required")
    assert "versions/{version}" in p["detail"]
    assert api.get(entry_url(MODEL)).status_code == 200


def test_delete_by_alias_is_refused(api: Api) -> None:
    api.post("/v1/entries", json=doc(MODEL, spec={"aliases": ["champion"]}))
    p = assert_problem(api.delete("/v1/entries/model/team-a/fraud/versions/champion"), 422)
    assert p["errors"][0]["code"] == "alias-not-deletable"
    assert api.get(entry_url(MODEL)).status_code == 200


def test_idempotency_key_replays_the_first_answer(api: Api, reg: Registry) -> None:
    headers = {"Idempotency-Key": "k-123"}
    first = api.post("/v1/entries", json=doc(MODEL, title="t"), headers=headers)
    assert first.status_code == 201
    again = api.post("/v1/entries", json=doc(MODEL, title="t"), headers=headers)
    assert again.status_code == 201, again.text
    assert again.json()["metadata"]["uid"] == first.json()["metadata"]["uid"]
    creates = [c for c in reg.changes() if c.op == "create"]
    assert len(creates) == 1
    other = api.post("/v1/entries", json=doc(MODEL, title="different"), headers=headers)
    assert_problem(other, 409, "conflict")
    assert_problem(
        api.post("/v1/entries", json=doc(MODEL), headers={"Idempotency-Key": "has space"}), 400
    )


def test_idempotency_keys_are_per_caller(api: Api, tokens: Tokens) -> None:
    headers = {"Idempotency-Key": "same"}
    assert api.post("/v1/entries", json=doc(MODEL), headers=headers).status_code == 201
    writer = api.as_(tokens.writer)
    r = writer.post("/v1/entries", json=doc(MODEL), headers=headers)
    assert_problem(r, 409, "already-exists")  # not a replay of the admin's answer


def test_put_with_idempotency_key(api: Api) -> None:
    url = entry_url(MODEL)
    h = {"Idempotency-Key": "put-1"}
    assert api.put(url, json=doc(MODEL, title="a"), headers=h).status_code == 201
    assert api.put(url, json=doc(MODEL, title="a"), headers=h).status_code == 201


def test_registry_fields_are_refused(api: Api) -> None:
    body = doc(MODEL)
    body["status"] = {"health": "up"}
    body["metadata"]["uid"] = "x"
    body["metadata"]["revision"] = 3
    body["metadata"]["createdAt"] = "2024-01-01T00:00:00Z"
    p = assert_problem(api.post("/v1/entries", json=body), 422, "invalid")
    paths = {e["path"] for e in p["errors"]}
    assert {"status", "metadata.uid", "metadata.revision", "metadata.createdAt"} <= paths
    assert all(e["code"] == "unknown-field" for e in p["errors"])


def test_unknown_spec_field_is_422(api: Api) -> None:
    p = assert_problem(api.post("/v1/entries", json=doc(MODEL, spec={"colour": "red"})), 422)
    assert "spec.colour" in {e["path"] for e in p["errors"]}


def test_kind_rules_give_field_paths(api: Api) -> None:
    bad = doc("model:team-a/fraud@not-semver")
    p = assert_problem(api.post("/v1/entries", json=bad), 422)
    assert "metadata.version" in {e["path"] for e in p["errors"]}


def test_relations_both_directions(api: Api) -> None:
    api.post("/v1/entries", json=doc("dataset:team-a/rows@2024-01"))
    api.post(
        "/v1/entries",
        json=doc(MODEL, relations=[("trainedOn", "dataset:team-a/rows@2024-01")]),
    )
    out = api.get("/v1/entries/model/team-a/fraud/relations")
    assert out.status_code == 200
    assert out.json()["root"] == MODEL
    [rel] = out.json()["items"]
    assert rel["type"] == "trainedOn" and rel["direction"] == "outgoing"
    assert rel["resolved"] == "dataset:team-a/rows@2024-01"
    back = api.get("/v1/entries/dataset/team-a/rows/versions/2024-01/relations").json()
    [inv] = back["items"]
    assert inv["type"] == "trainingDataOf" and inv["direction"] == "incoming"
    assert inv["target"] == MODEL
    assert_problem(api.get("/v1/entries/model/team-a/none/relations"), 404)


def test_all_six_kinds_round_trip(api: Api) -> None:
    from .conftest import all_examples

    for d in all_examples():
        r = api.post("/v1/entries", json=d)
        assert r.status_code == 201, r.text
        got = api.get(r.headers["location"])
        assert got.status_code == 200
        assert got.json()["spec"] == r.json()["spec"]
        assert json.loads(got.content)["kind"] == d["kind"]
