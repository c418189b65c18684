"""Authentication, roles, namespace isolation, token management and the refusal audit."""

from __future__ import annotations

import time

import pytest
from fastapi import FastAPI

from hyper_registry import Registry
from hyper_registry.api import create_app
from hyper_registry.api.auth import PUBLIC_PATHS

from .conftest import Api, TestClient, Tokens, assert_problem, doc, entry_url

A = "model:team-a/fraud@1.0.0"
B = "model:team-b/secret@1.0.0"
SAMPLE = {
    "kind": "model",
    "namespace": "team-a",
    "name": "fraud",
    "version": "1.0.0",
    "mode": "impact",
    "token_id": "0123456789abcdef",
    "vuln_id": "CVE-2021-44228",
    "finding_id": "1",
}


class _Sample(dict[str, str]):
    """Path parameters for the routes: the samples above, ``x`` for any other."""

    def __missing__(self, key: str) -> str:
        return "x"


def protected_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every operation of the OpenAPI document outside the public allowlist."""
    out = []
    for path, ops in app.openapi()["paths"].items():
        if path in PUBLIC_PATHS:
            continue
        for method, op in ops.items():
            assert op["security"] == [{"bearerToken": []}], (method, path)
            out.append((method.upper(), path.format_map(_Sample(SAMPLE))))
    return out


def test_every_route_but_the_public_ones_needs_a_token(api: Api, app: FastAPI) -> None:
    routes = protected_routes(app)
    assert len(routes) >= 18
    anonymous = api.as_(None)
    for method, path in routes:
        for headers in (
            {},
            {"Authorization": "Bearer hr_0123456789abcdef_nope"},
            {"Authorization": "Basic YWRtaW46YWRtaW4="},
            {"Authorization": "Bearer"},
        ):
            r = anonymous.request(method, path, headers=headers, content=b"{}")
            assert_problem(r, 401, "unauthenticated")
            assert r.headers["www-authenticate"].startswith("Bearer")


def test_public_routes_need_no_token_and_reveal_no_entry(api: Api, reg: Registry) -> None:
    reg.apply(doc("model:team-b/very-secret-model@1.0.0"))
    anonymous = api.as_(None)
    for path in sorted(PUBLIC_PATHS):
        r = anonymous.get(path)
        assert r.status_code == 200, path
        assert "very-secret-model" not in r.text


def test_auth_failures_are_audited(api: Api, reg: Registry) -> None:
    api.as_("hr_0123456789abcdef_wrong").get("/v1/entries")
    [row] = [c for c in reg.changes() if c.op == "refuse"]
    assert row.actor == "anonymous"
    assert row.detail is not None and row.detail["status"] == 401
    assert row.namespace == ""


def test_reader_can_read_but_not_write(api: Api, tokens: Tokens, reg: Registry) -> None:
    reg.apply(doc(A))
    reader = api.as_(tokens.reader)
    assert reader.get(entry_url(A)).status_code == 200
    assert reader.get("/v1/entries").status_code == 200
    assert reader.get("/v1/changes").status_code == 200
    assert_problem(reader.post("/v1/entries", json=doc("model:team-a/x@1.0.0")), 403, "forbidden")
    assert_problem(reader.put(entry_url(A), json=doc(A, title="t")), 403)
    assert_problem(reader.delete(entry_url(A)), 403)
    assert_problem(reader.post("/v1/apply", json=[doc("model:team-a/x@1.0.0")]), 403)
    assert_problem(reader.get("/v1/tokens"), 403)
    assert reg.count() == 1
    refusals = [c for c in reg.changes() if c.op == "refuse"]
    assert len(refusals) == 5
    assert {c.actor for c in refusals} == {"reader"}
    assert {c.detail["status"] for c in refusals if c.detail} == {403}
    assert any(c.ref == A for c in refusals)


def test_writer_writes_but_does_not_manage_tokens(api: Api, tokens: Tokens) -> None:
    writer = api.as_(tokens.writer)
    assert writer.post("/v1/entries", json=doc(A)).status_code == 201
    assert writer.put(entry_url(A), json=doc(A, title="x")).status_code == 200
    assert_problem(writer.post("/v1/tokens", json={"name": "x", "role": "reader"}), 403)
    assert_problem(writer.delete("/v1/tokens/0123456789abcdef"), 403)
    assert writer.delete(entry_url(A)).status_code == 204


def test_writes_record_the_actor(api: Api, tokens: Tokens, reg: Registry) -> None:
    api.as_(tokens.writer_a).post("/v1/entries", json=doc(A))
    [create] = [c for c in reg.changes() if c.op == "create"]
    assert create.actor == "writer-a"


def test_refused_write_is_audited_and_nothing_else_written(api: Api, reg: Registry) -> None:
    before = reg.count()
    bad = doc(A, spec={"nope": 1})
    assert_problem(api.post("/v1/entries", json=bad), 422)
    changes = reg.changes(audit=False)  # without the fixtures' token management rows
    assert [c.op for c in changes] == ["refuse"]
    assert changes[0].ref == "model:team-a/fraud@1.0.0"
    assert changes[0].namespace == "team-a"
    assert changes[0].detail and changes[0].detail["code"] == "invalid"
    assert reg.count() == before
    api.get("/v1/entries/model/team-a/none")  # a read's 404 is not audited
    assert len(reg.changes(audit=False)) == 1


# -- tokens ------------------------------------------------------------------------------


def test_token_changes_are_audited_for_admins_only(api: Api, reg: Registry) -> None:
    r = api.post("/v1/tokens", json={"name": "audited", "role": "reader", "namespaces": ["*"]})
    token_id = r.json()["id"]
    api.delete(f"/v1/tokens/{token_id}")
    rows = [c for c in reg.changes() if c.ref == f"token/{token_id}"]
    assert [(c.op, c.actor) for c in rows] == [("token-create", "admin"), ("token-revoke", "admin")]
    seen = {c["ref"] for c in api.get("/v1/changes", params={"limit": 500}).json()["items"]}
    assert f"token/{token_id}" in seen
    reader = api.post("/v1/tokens", json={"name": "plain", "role": "reader", "namespaces": ["*"]})
    as_reader = api.as_(reader.json()["token"])
    items = as_reader.get("/v1/changes", params={"limit": 500}).json()["items"]
    assert not [c for c in items if c["kind"] == "token"]


def test_token_lifecycle(api: Api, reg: Registry) -> None:
    r = api.post("/v1/tokens", json={"name": "ci", "role": "writer", "namespaces": ["team-a"]})
    assert r.status_code == 201
    created = r.json()
    assert created["token"].startswith(f"hr_{created['id']}_")
    assert created["namespaces"] == ["team-a"] and created["role"] == "writer"
    assert created["createdBy"] == "admin"
    new = api.as_(created["token"])
    assert new.post("/v1/entries", json=doc(A)).status_code == 201
    listed = api.get("/v1/tokens").json()["items"]
    assert created["id"] in {t["id"] for t in listed}
    assert all("token" not in t and "secret" not in str(t) for t in listed)
    assert created["token"] not in api.get("/v1/tokens").text
    revoked = api.delete(f"/v1/tokens/{created['id']}")
    assert revoked.status_code == 200 and revoked.json()["revokedAt"]
    assert_problem(new.get("/v1/entries"), 401)  # revoked here: dropped from the cache at once
    assert_problem(api.delete("/v1/tokens/0123456789abcdef"), 404)
    assert_problem(api.delete("/v1/tokens/not-an-id"), 422)


def test_a_token_cannot_revoke_itself(api: Api, tokens: Tokens, reg: Registry) -> None:
    me = next(t for t in api.get("/v1/tokens").json()["items"] if t["name"] == "admin")
    assert_problem(api.delete(f"/v1/tokens/{me['id']}"), 409, "conflict")
    assert api.get("/v1/tokens").status_code == 200
    other = api.as_(tokens.make("second-admin", "admin"))
    assert other.delete(f"/v1/tokens/{me['id']}").status_code == 200
    assert_problem(api.get("/v1/tokens"), 401)


def test_token_body_validation(api: Api) -> None:
    assert_problem(api.post("/v1/tokens", json={"name": "x", "role": "root"}), 422)
    assert_problem(api.post("/v1/tokens", json={"name": "x", "role": "reader", "extra": 1}), 422)
    assert_problem(api.post("/v1/tokens", json={"name": "Bad Name", "role": "reader"}), 422)
    assert_problem(api.post("/v1/tokens", json=["x"]), 422)
    all_ns = api.post("/v1/tokens", json={"name": "all", "role": "reader", "namespaces": ["*"]})
    assert all_ns.json()["namespaces"] == ["*"]


def test_scoped_admin_manages_only_its_namespaces(api: Api, tokens: Tokens) -> None:
    admin_a = api.as_(tokens.admin_a)
    ok = admin_a.post("/v1/tokens", json={"name": "a2", "role": "reader", "namespaces": ["team-a"]})
    assert ok.status_code == 201
    wider = {"name": "b", "role": "reader", "namespaces": ["team-a", "team-b"]}
    assert_problem(admin_a.post("/v1/tokens", json=wider), 403)
    assert_problem(admin_a.post("/v1/tokens", json={"name": "all", "role": "admin"}), 403)
    names = {t["name"] for t in admin_a.get("/v1/tokens").json()["items"]}
    assert names == {"admin-a", "writer-a", "reader-a", "a2"}
    unscoped = next(t for t in api.get("/v1/tokens").json()["items"] if t["name"] == "reader")
    assert_problem(admin_a.delete(f"/v1/tokens/{unscoped['id']}"), 404)


def test_revocation_elsewhere_takes_effect_within_the_ttl(reg: Registry) -> None:
    info, token = reg.tokens.create("short", "reader", None)
    app = create_app(reg, token_ttl=0.3)
    with TestClient(app) as c:
        h = {"Authorization": f"Bearer {token}"}
        assert c.get("/v1/entries", headers=h).status_code == 200
        reg.tokens.revoke(info.id)  # as another process would (CLI, another replica)
        assert c.get("/v1/entries", headers=h).status_code == 200  # cached
        time.sleep(0.35)
        assert c.get("/v1/entries", headers=h).status_code == 401


# -- namespace isolation ----------------------------------------------------------------


@pytest.fixture
def two_teams(reg: Registry) -> Registry:
    reg.apply(doc("dataset:team-b/hidden@v1"))
    reg.apply(
        doc(
            B,
            relations=[("trainedOn", "dataset:team-b/hidden@v1")],
            spec={"aliases": ["champion"]},
            title="secret thing",
        )
    )
    reg.apply(doc("dataset:team-a/rows@v1"))
    reg.apply(
        doc(
            A,
            relations=[
                ("trainedOn", "dataset:team-a/rows@v1"),
                ("derivedFrom", "model:team-b/secret@1.0.0"),
            ],
            title="fraud thing",
        )
    )
    reg.apply(doc("service:team-b/api@1.0.0", relations=[("uses", A)]))
    return reg


READ_PATHS = [
    "/v1/entries/model/team-b/{name}",
    "/v1/entries/model/team-b/{name}/versions/1.0.0",
    "/v1/entries/model/team-b/{name}/versions/champion",
    "/v1/entries/model/team-b/{name}/versions",
    "/v1/entries/model/team-b/{name}/relations",
    "/v1/entries/model/team-b/{name}/versions/1.0.0/relations",
    "/v1/graph/model/team-b/{name}/dependencies",
    "/v1/graph/model/team-b/{name}/versions/1.0.0/impact",
    "/v1/graph/model/team-b/{name}/dependents",
]


@pytest.mark.parametrize("template", READ_PATHS)
def test_hidden_entry_reads_exactly_like_a_missing_one(
    api: Api, tokens: Tokens, reg: Registry, template: str
) -> None:
    path = template.format(name="secret")
    missing_body = api.get(path)  # before it exists, as the all-seeing admin
    assert missing_body.status_code == 404
    reg.apply(doc(B, spec={"aliases": ["champion"]}))
    assert api.get(path).status_code == 200
    for token in (tokens.reader_a, tokens.writer_a, tokens.admin_a):
        hidden = api.as_(token).get(path)
        assert hidden.status_code == 404
        assert hidden.content == missing_body.content
        assert hidden.headers["content-type"] == missing_body.headers["content-type"]


def test_hidden_namespace_never_listed(api: Api, tokens: Tokens, two_teams: Registry) -> None:
    reader = api.as_(tokens.reader_a)
    for url in (
        "/v1/entries",
        "/v1/entries?allVersions=true",
        "/v1/entries?namespace=team-b",
        "/v1/entries?q=secret",
        "/v1/entries?kind=model&kind=dataset&kind=service",
        "/v1/entries?spec.framework=xgboost",
        "/v1/entries?limit=1",
    ):
        r = reader.get(url)
        assert r.status_code == 200
        assert {e["metadata"]["namespace"] for e in r.json()["items"]} <= {"team-a"}, url
        assert "secret thing" not in r.text
    names = {e["metadata"]["name"] for e in reader.get("/v1/entries").json()["items"]}
    assert names == {"fraud", "rows"}


def test_graph_and_relations_hide_other_namespaces(
    api: Api, tokens: Tokens, two_teams: Registry
) -> None:
    reader = api.as_(tokens.reader_a)
    for mode in ("dependencies", "dependents", "impact"):
        full = api.get(f"/v1/graph/model/team-a/fraud/{mode}")
        assert full.status_code == 200
        r = reader.get(f"/v1/graph/model/team-a/fraud/{mode}")
        assert r.status_code == 200
        assert "team-b" not in r.text, mode
    assert "team-b" in api.get("/v1/graph/model/team-a/fraud/dependencies").text
    full = api.get("/v1/entries/model/team-a/fraud/relations").json()["items"]
    assert {(i["target"], i["resolved"] is not None) for i in full} == {
        ("dataset:team-a/rows@v1", True),
        ("model:team-b/secret@1.0.0", True),  # declared by fraud itself
        ("service:team-b/api@1.0.0", True),  # incoming: team-b's api uses fraud
    }
    rel = reader.get("/v1/entries/model/team-a/fraud/relations")
    assert rel.status_code == 200
    # The entry's own outgoing declaration stays, without saying whether it resolves;
    # the hidden namespace's incoming relation is left out.
    assert {(i["target"], i["resolved"]) for i in rel.json()["items"]} == {
        ("dataset:team-a/rows@v1", "dataset:team-a/rows@v1"),
        ("model:team-b/secret@1.0.0", None),
    }


def test_changes_hide_other_namespaces(api: Api, tokens: Tokens, two_teams: Registry) -> None:
    everything = api.get("/v1/changes?limit=100").json()["items"]
    assert any(c["namespace"] == "team-b" for c in everything)
    mine = api.as_(tokens.reader_a).get("/v1/changes?limit=100").json()
    assert mine["items"] and all(c["namespace"] == "team-a" for c in mine["items"])
    assert mine["next"] == mine["items"][-1]["seq"]


def test_writes_into_hidden_namespace_are_404(
    api: Api, tokens: Tokens, two_teams: Registry
) -> None:
    writer = api.as_(tokens.writer_a)
    reader = api.as_(tokens.reader_a)
    target = entry_url(B)
    missing = api.get(entry_url("model:team-b/never@1.0.0"))
    for who in (writer, reader):
        assert_problem(who.put(target, json=doc(B, title="mine")), 404, "not-found")
        assert_problem(who.delete(target), 404, "not-found")
        assert_problem(who.put("/v1/entries/model/team-b/secret", json=doc(B)), 404)
    # A body route checks the role before reading the body, then the body's namespace.
    assert_problem(writer.post("/v1/entries", json=doc("model:team-b/new@1.0.0")), 404)
    assert_problem(reader.post("/v1/entries", json=doc("model:team-b/new@1.0.0")), 403)
    assert missing.status_code == 404
    assert_problem(reader.put(entry_url(A), json=doc(A, title="x")), 403)
    # apply: a hidden document is refused as not found, alone or in a list
    assert_problem(writer.post("/v1/apply", json=doc(B)), 404)
    batch = [doc("model:team-a/ok@1.0.0"), doc("model:team-b/new@1.0.0")]
    p = assert_problem(writer.post("/v1/apply", json=batch), 422, "batch-refused")
    assert [e["path"] for e in p["errors"]] == ["[1]"]
    per_item = writer.post("/v1/apply?atomic=false", json=batch).json()
    assert [i["outcome"] for i in per_item["results"]] == ["created", "refused"]
    assert per_item["results"][1]["error"]["status"] == 404
    assert api.get(target).json()["metadata"]["title"] == "secret thing"
    assert api.get(entry_url("model:team-b/new@1.0.0")).status_code == 404


def test_refusals_in_hidden_namespaces_stay_hidden(
    api: Api, tokens: Tokens, reg: Registry, two_teams: Registry
) -> None:
    writer = api.as_(tokens.writer_a)
    writer.put(entry_url(B), json=doc(B, title="mine"))
    refusals = [c for c in reg.changes(limit=10_000) if c.op == "refuse"]
    assert len(refusals) == 1
    assert refusals[0].namespace == "team-b" and refusals[0].actor == "writer-a"
    mine = writer.get("/v1/changes?limit=500").json()["items"]
    assert all(c["namespace"] == "team-a" for c in mine)
