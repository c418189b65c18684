"""The infra routes: push (file and archive), cost, diff, resources by type, deploys."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

from .conftest import Api, Tokens, assert_problem, example

FIXTURES = Path(__file__).parent.parent / "fixtures" / "infra"


def tgz(root: Path, prefix: str = "") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                tf.add(path, arcname=prefix + path.relative_to(root).as_posix())
    return buf.getvalue()


def push(api: Api, ns: str, name: str, version: str, body: bytes, **params: str) -> Any:
    return api.post(f"/v1/infra/{ns}/{name}/versions/{version}", content=body, params=params)


def test_push_archive_then_cost_and_resources(api: Api) -> None:
    res = push(
        api,
        "platform",
        "rollouts",
        "2.41.0",
        tgz(FIXTURES / "helm" / "argo-rollouts", "argo-rollouts/"),
    )
    assert res.status_code == 201, res.text
    st = res.json()["status"]["infra"]
    assert st["templateType"] == "helm" and st["resourceTypes"] == {"Deployment": 1, "Service": 1}
    again = push(
        api,
        "platform",
        "rollouts",
        "2.41.0",
        tgz(FIXTURES / "helm" / "argo-rollouts", "argo-rollouts/"),
    )
    assert again.status_code == 200
    found = api.get("/v1/infra/resources", params={"type": "Deployment"}).json()["items"]
    assert [i["metadata"]["name"] for i in found] == ["rollouts"]


def test_push_single_file_with_type_detection(api: Api) -> None:
    body = (FIXTURES / "cloudformation" / "DynamoDB_Table.json").read_bytes()
    res = push(api, "data", "table", "1.0.0", body, filename="DynamoDB_Table.json")
    assert res.status_code == 201, res.text
    assert res.json()["spec"]["templateType"] == "cloudformation"
    report = api.get("/v1/infra/data/table/cost").json()
    assert set(report) == {"total", "currency", "breakdown", "resources", "unpriced"}
    assert report["resources"][0]["type"] == "AWS::DynamoDB::Table"


def test_cost_with_usage_and_diff(api: Api) -> None:
    for doc in example("infra"):
        assert (
            api.put(
                f"/v1/entries/infra/{doc['metadata']['namespace']}/{doc['metadata']['name']}/versions/{doc['metadata']['version']}",
                json=doc,
            ).status_code
            == 201
        )
    base = api.get("/v1/infra/platform/edge-stack/versions/1.3.0/cost").json()
    assert base["total"] == 324.16
    usage = {"resource_usage": {"aws_instance.gateway": {"monthly_hours": 0}}}
    less = api.post("/v1/infra/platform/edge-stack/cost", json=usage).json()
    assert less["breakdown"]["compute"] == 0.0
    src = b'resource "aws_lb" "edge" {\n  load_balancer_type = "application"\n}\n'
    assert push(api, "platform", "edge-stack", "1.4.0", src, filename="main.tf").status_code == 201
    d = api.get(
        "/v1/infra/diff",
        params={"from": "infra:platform/edge-stack@1.3.0", "to": "platform/edge-stack@1.4.0"},
    ).json()
    assert sorted(x["address"] for x in d["removed"]) == [
        "aws_db_instance.sessions",
        "aws_instance.gateway",
    ]
    assert d["cost"]["delta"] == round(d["cost"]["after"] - 324.16, 2)
    deploys = api.get("/v1/infra/platform/edge-stack/versions/1.3.0/deploys").json()
    assert deploys["deploys"][0]["target"] == "service:edge/api-gateway"


def test_bad_templates_and_archives_refused(api: Api) -> None:
    res = push(
        api, "platform", "bad", "1.0.0", b'resource "a" "b" {\n  x = \n}\n', filename="main.tf"
    )
    body = assert_problem(res, 422)
    assert body["errors"][0]["message"].startswith("main.tf:2: HCL syntax error")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        info = tarfile.TarInfo("../../etc/cron.d/x.yaml")
        info.size = 1
        tf.addfile(info, io.BytesIO(b"x"))
    assert_problem(push(api, "platform", "evil", "1.0.0", buf.getvalue()), 422)
    big = io.BytesIO()
    with tarfile.open(fileobj=big, mode="w:gz") as tf:
        data = b"\0" * (2 * 1024 * 1024)
        info = tarfile.TarInfo("main.tf")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    assert_problem(push(api, "platform", "bomb", "1.0.0", big.getvalue()), 413)
    assert_problem(push(api, "platform", "what", "1.0.0", b"a: 1\n", filename="x.yaml"), 422)
    assert_problem(api.get("/v1/infra/platform/nothing/cost"), 404)


def test_namespaces_are_enforced(api: Api, tokens: Tokens) -> None:
    src = b'resource "aws_db_instance" "db" {\n  instance_class = "db.t3.micro"\n}\n'
    assert push(api, "team-b", "db", "1.0.0", src, filename="main.tf").status_code == 201
    reader_a = api.as_(tokens.reader_a)
    assert (
        reader_a.get("/v1/infra/resources", params={"type": "aws_db_instance"}).json()["items"]
        == []
    )
    assert_problem(reader_a.get("/v1/infra/team-b/db/cost"), 404)
    assert_problem(
        reader_a.get("/v1/infra/diff", params={"from": "team-b/db@1.0.0", "to": "team-b/db@1.0.0"}),
        404,
    )
    assert_problem(
        api.as_(tokens.writer_a).post("/v1/infra/team-b/db/versions/2.0.0", content=src), 404
    )
    assert_problem(
        api.as_(tokens.reader).post("/v1/infra/team-b/db/versions/2.0.0", content=src), 403
    )
    assert (
        api.as_(tokens.reader)
        .get("/v1/infra/resources", params={"type": "aws_db_instance"})
        .json()["items"]
    )
