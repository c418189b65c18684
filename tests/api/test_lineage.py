"""OpenLineage over HTTP (the real ``openlineage-python`` client) and the lineage graph routes."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import (
    InputDataset,
    Job,
    OutputDataset,
    Run,
    RunEvent,
    RunState,
)
from openlineage.client.facet_v2 import schema_dataset
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

from hyper_registry import Registry

from .conftest import Api, Live, Tokens, assert_problem

EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "ml" / "openlineage"
PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"


def ol_client(live: Live, token: str, endpoint: str = "v1/lineage") -> OpenLineageClient:
    config = HttpConfig(
        url=live.url,
        endpoint=endpoint,
        auth=ApiKeyTokenProvider({"apiKey": token}),
        retry={"total": 0},
    )
    return OpenLineageClient(transport=HttpTransport(config))


def now() -> str:
    return datetime.now(UTC).isoformat()


def job_events(run_id: str) -> list[RunEvent]:
    schema = schema_dataset.SchemaDatasetFacet(
        fields=[
            schema_dataset.SchemaDatasetFacetFields(name="id", type="BIGINT"),
            schema_dataset.SchemaDatasetFacetFields(name="amount", type="DOUBLE"),
        ]
    )
    inputs = [InputDataset(namespace="postgres://db:5432", name="shop.orders")]
    outputs = [OutputDataset(namespace="s3://lake", name="orders_clean", facets={"schema": schema})]
    job = Job(namespace="airflow", name="etl.clean_orders")
    return [
        RunEvent(
            eventType=state,
            eventTime=now(),
            run=Run(runId=run_id),
            job=job,
            producer=PRODUCER,
            inputs=inputs,
            outputs=outputs,
        )
        for state in (RunState.START, RunState.COMPLETE)
    ]


def test_the_real_client_emits_start_and_complete(
    live: Live, tokens: Tokens, reg: Registry
) -> None:
    run_id = str(uuid.uuid4())
    client = ol_client(live, tokens.writer)
    for ev in job_events(run_id):
        client.emit(ev)

    out = reg.get("dataset:s3-lake/orders_clean")
    assert out.spec["openlineage"] == {"namespace": "s3://lake", "name": "orders_clean"}
    assert [f["name"] for f in out.spec["schema"]["fields"]] == ["id", "amount"]
    headers = {"Authorization": f"Bearer {tokens.reader}"}
    graph = requests.get(
        f"{live.url}/v1/lineage/dataset/s3-lake/orders_clean",
        params={"direction": "upstream"},
        headers=headers,
        timeout=10,
    ).json()
    [edge] = graph["edges"]
    assert edge["from"] == "dataset:postgres-db-5432/shop.orders@1"
    assert edge["to"] == "dataset:s3-lake/orders_clean@1"
    [job] = edge["transformations"]
    assert job["job"] == {"namespace": "airflow", "name": "etl.clean_orders"}
    assert job["runs"][0]["runId"] == run_id and job["runs"][0]["state"] == "COMPLETE"
    run = requests.get(f"{live.url}/v1/lineage/runs/{run_id}", headers=headers, timeout=10).json()
    assert [h["state"] for h in run["history"]] == ["START", "COMPLETE"]

    # The run cannot go back to START, and the client sees the refusal.
    with pytest.raises(requests.HTTPError) as err:
        client.emit(job_events(run_id)[0])
    assert err.value.response is not None and err.value.response.status_code == 409


def test_the_clients_default_endpoint_works(live: Live, tokens: Tokens, reg: Registry) -> None:
    client = ol_client(live, tokens.writer, endpoint="api/v1/lineage")
    client.emit(job_events(str(uuid.uuid4()))[0])
    assert reg.get("dataset:s3-lake/orders_clean").metadata.version == "1"


def test_marquez_sample_chain(api: Api) -> None:
    for name in (
        "1_pick_apples",
        "2_apple_filling",
        "3_apple_cider",
        "5_apple_vinegar",
        "6_apple_pie",
    ):
        res = api.post(
            "/v1/lineage",
            content=(EVENTS / f"{name}.json").read_bytes(),
            headers={"Content-Type": "application/json"},
        )
        assert res.status_code == 201, res.text
    res = api.get(
        "/v1/lineage/dataset/laurents-orchard/red.delicious",
        params={"direction": "downstream", "depth": 3},
    )
    assert res.status_code == 200
    assert [n["ref"] for n in res.json()["nodes"]] == [
        "dataset:laurents-orchard/red.delicious@1",
        "dataset:grandmas.kitchen/apples@1",
        "dataset:grandmas.kitchen/apple.cider@1",
        "dataset:grandmas.kitchen/apple.filling@1",
        "dataset:cupboard/apple.vinegar@1",
        "dataset:grandmas.kitchen/apple.pie@1",
    ]


def base_event() -> dict[str, Any]:
    return dict(json.loads((EVENTS / "event_simple.json").read_text()))


@pytest.mark.parametrize(
    ("drop", "path"),
    [
        (("run", "runId"), "run.runId"),
        (("job", "namespace"), "job.namespace"),
        (("eventTime",), "eventTime"),
        (("producer",), "producer"),
        (("run",), "run"),
    ],
)
def test_missing_required_fields_are_422_with_the_path(
    api: Api, drop: tuple[str, ...], path: str
) -> None:
    ev = base_event()
    target = ev
    for key in drop[:-1]:
        target = target[key]
    del target[drop[-1]]
    if drop == ("run",):
        ev["eventType"] = "START"  # still a RunEvent: it names an eventType
    body = assert_problem(api.post("/v1/lineage", json=ev), 422)
    assert path in [e["path"] for e in body["errors"]]


def test_gzip_bodies_and_bad_gzip(api: Api) -> None:
    data = gzip.compress((EVENTS / "event_simple.json").read_bytes())
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    assert api.post("/v1/lineage", content=data, headers=headers).status_code == 201
    assert_problem(api.post("/v1/lineage", content=b"nope", headers=headers), 422)


def test_roles_and_namespaces(api: Api, tokens: Tokens) -> None:
    ev = base_event()
    assert_problem(api.as_(tokens.reader).post("/v1/lineage", json=ev), 403)
    # A token for team-a cannot write datasets of another namespace (reads as not found).
    assert_problem(api.as_(tokens.writer_a).post("/v1/lineage", json=ev), 404)
    team = base_event()
    team["job"]["namespace"] = "team-a"
    team["run"]["runId"] = str(uuid.uuid4())
    for d in [*team["inputs"], *team["outputs"]]:
        d["namespace"] = "team-a"
    assert api.as_(tokens.writer_a).post("/v1/lineage", json=team).status_code == 201
    assert api.post("/v1/lineage", json=ev).status_code == 201
    # A team-a reader walks only team-a; another namespace's lineage is not found.
    res = api.as_(tokens.reader_a).get(
        "/v1/lineage/dataset/my-datasource-namespace/instance.schema.output-1"
    )
    assert_problem(res, 404)
    run_id = ev["run"]["runId"]
    assert_problem(api.as_(tokens.reader_a).get(f"/v1/lineage/runs/{run_id}"), 404)
    assert api.as_(tokens.reader).get(f"/v1/lineage/runs/{run_id}").status_code == 200


def test_lineage_query_validation(api: Api) -> None:
    assert api.post("/v1/lineage", json=base_event()).status_code == 201
    url = "/v1/lineage/dataset/my-datasource-namespace/instance.schema.output-1"
    assert_problem(api.get(url, params={"direction": "sideways"}), 422)
    assert_problem(api.get(url, params={"depth": 0}), 422)
    assert_problem(api.get(url, params={"bogus": 1}), 422)
    assert api.get(url + "/versions/1", params={"direction": "upstream"}).status_code == 200
    assert_problem(api.get("/v1/lineage/dataset/nope/nope"), 404)
