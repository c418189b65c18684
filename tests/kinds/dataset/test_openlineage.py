"""OpenLineage events into datasets, lineage edges and runs (Marquez's sample events)."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from hyper_registry import Registry
from hyper_registry.core.errors import Conflict, Invalid
from hyper_registry.graph.lineage import build_lineage_graph
from hyper_registry.kinds.dataset.openlineage import ingest, run_history, slug

EVENTS = Path(__file__).resolve().parents[2] / "fixtures" / "ml" / "openlineage"
APPLES = ["1_pick_apples", "2_apple_filling", "3_apple_cider", "5_apple_vinegar", "6_apple_pie"]


def event(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / f"{name}.json").read_text()))


def run_event(state: str, run_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "eventType": state,
        "eventTime": "2024-01-01T00:00:00Z",
        "run": {"runId": run_id},
        "job": {"namespace": "etl", "name": "daily"},
        "producer": "https://example.com/producer",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent",
        **extra,
    }


def test_apple_chain_becomes_lineage(registry: Registry) -> None:
    for name in APPLES:
        ingest(registry, event(name), actor="marquez")
    graph = build_lineage_graph(registry, "dataset:grandmas.kitchen/apples", "both")
    assert [(n.ref, n.side, n.depth) for n in graph.nodes] == [
        ("dataset:grandmas.kitchen/apples@1", "root", 0),
        ("dataset:grandmas.kitchen/apple.cider@1", "downstream", 1),
        ("dataset:grandmas.kitchen/apple.filling@1", "downstream", 1),
        ("dataset:laurents-orchard/red.delicious@1", "upstream", 1),
        ("dataset:cupboard/apple.vinegar@1", "downstream", 2),
        ("dataset:grandmas.kitchen/apple.pie@1", "downstream", 2),
    ]
    edges = {(e.source, e.target): e for e in graph.edges}
    pie = edges[
        ("dataset:grandmas.kitchen/apple.filling@1", "dataset:grandmas.kitchen/apple.pie@1")
    ]
    [job] = pie.transformations
    assert job["job"] == {"namespace": "grandmas.kitchen", "name": "prepare_apple_pie"}
    assert job["source"] == "openlineage"
    assert job["runs"] == [
        {
            "runId": "66ad484e-9bba-4eed-a5f5-3a17558e7f6b",
            "state": "COMPLETE",
            "eventTime": "2020-09-03T15:00:00.000+10:00",
        }
    ]
    entry = registry.get("dataset:grandmas.kitchen/apple.pie")
    assert entry.spec["openlineage"] == {"namespace": "grandmas.kitchen", "name": "apple.pie"}
    assert entry.spec["transformations"] == [
        {
            "name": "prepare_apple_pie",
            "job": "openlineage://grandmas.kitchen/prepare_apple_pie",
            "inputs": ["dataset:grandmas.kitchen/apple.filling"],
        }
    ]


def test_replaying_events_changes_nothing(registry: Registry) -> None:
    for name in APPLES:
        ingest(registry, event(name), actor="m")
    before = len(registry.changes(limit=10_000))
    out = ingest(registry, event("6_apple_pie"), actor="m")
    assert {d["outcome"] for d in out["datasets"]} == {"unchanged"}
    assert len(registry.changes(limit=10_000)) == before


def test_run_state_history_and_no_going_back(registry: Registry) -> None:
    run_id = str(uuid.uuid4())
    for state in ("START", "RUNNING", "OTHER", "COMPLETE"):
        ingest(registry, run_event(state, run_id), actor="airflow")
    history = run_history(registry, run_id)
    assert history is not None
    assert history["state"] == "COMPLETE"
    assert [h["state"] for h in history["history"]] == ["START", "RUNNING", "OTHER", "COMPLETE"]
    for state in ("START", "RUNNING", "FAIL"):
        with pytest.raises(Conflict) as err:
            ingest(registry, run_event(state, run_id), actor="airflow")
        assert f"is COMPLETE; a {state} event would move its state backwards" in err.value.message
    ingest(registry, run_event("COMPLETE", run_id), actor="airflow")  # a repeat is fine
    other = str(uuid.uuid4())
    ingest(registry, run_event("RUNNING", other), actor="a")
    with pytest.raises(Conflict):
        ingest(registry, run_event("START", other), actor="a")


def test_a_refused_event_writes_nothing(registry: Registry) -> None:
    run_id = str(uuid.uuid4())
    ingest(registry, run_event("COMPLETE", run_id), actor="a")
    late = run_event(
        "START",
        run_id,
        inputs=[{"namespace": "db", "name": "a"}],
        outputs=[{"namespace": "db", "name": "b"}],
    )
    with pytest.raises(Conflict):
        ingest(registry, late, actor="a")
    assert registry.store.latest(registry.ref("dataset:db/b")) is None


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda e: e.pop("eventTime"), "eventTime"),
        (lambda e: e.pop("producer"), "producer"),
        (lambda e: e["run"].pop("runId"), "run.runId"),
        (lambda e: e["job"].pop("name"), "job.name"),
        (lambda e: e["job"].update(namespace=""), "job.namespace"),
        (lambda e: e.update(eventType="DONE"), "eventType"),
        (lambda e: e.update(eventTime="yesterday"), "eventTime"),
        (lambda e: e["run"].update(runId="not-a-uuid"), "run.runId"),
        (lambda e: e.update(inputs=[{"name": "x"}]), "inputs[0].namespace"),
        (lambda e: e.update(outputs=[{"namespace": "x"}]), "outputs[0].name"),
        (lambda e: e.update(producer="not a uri"), "producer"),
    ],
)
def test_invalid_events_name_the_field(registry: Registry, mutate: Any, path: str) -> None:
    bad = copy.deepcopy(run_event("START", str(uuid.uuid4())))
    mutate(bad)
    with pytest.raises(Invalid) as err:
        ingest(registry, bad, actor="a")
    assert path in [p.path for p in err.value.problems]


def test_spec_samples_accepted(registry: Registry) -> None:
    out = ingest(registry, event("event_required_only"), actor="a")  # no eventType: OTHER
    assert out["run"]["state"] == "OTHER"
    full = ingest(registry, event("event_full"), actor="a")
    assert full["run"]["state"] == "COMPLETE"
    entry = registry.get("dataset:my-datasource-namespace/instance.schema.table")
    assert entry.spec["schema"] == {
        "fields": [
            {"name": "column1", "type": "VARCHAR", "nullable": True, "description": "string"}
        ]
    }
    ds_event = ingest(registry, event("event_dataset_event"), actor="a")
    assert ds_event["run"] is None
    assert registry.get("dataset:my-dataset-namespace/my-dataset-name").spec["schema"]["fields"][0][
        "name"
    ] == ("col_a")


def test_schema_facet_change_makes_a_new_version(registry: Registry) -> None:
    def with_schema(fields: list[str]) -> dict[str, Any]:
        typed = [f.split(":") if ":" in f else [f, "VARCHAR"] for f in fields]
        return run_event(
            "COMPLETE",
            str(uuid.uuid4()),
            outputs=[
                {
                    "namespace": "warehouse",
                    "name": "orders",
                    "facets": {
                        "schema": {
                            "_producer": "https://example.com",
                            "_schemaURL": "https://example.com/schema",
                            "fields": [{"name": f, "type": t} for f, t in typed],
                        }
                    },
                }
            ],
        )

    ingest(registry, with_schema(["id"]), actor="a")
    ingest(registry, with_schema(["id"]), actor="a")
    assert [e.metadata.version for e in registry.versions("dataset:warehouse/orders")] == ["1"]
    ingest(registry, with_schema(["id", "total"]), actor="a")  # nullable: backward compatible
    assert [e.metadata.version for e in registry.versions("dataset:warehouse/orders")] == [
        "2",
        "1",
    ]
    assert "forceIncompatible" not in registry.get("dataset:warehouse/orders").spec
    ingest(registry, with_schema(["total"]), actor="a")  # a removal is backward compatible
    assert "forceIncompatible" not in registry.get("dataset:warehouse/orders").spec
    ingest(registry, with_schema(["total:INTEGER"]), actor="a")  # string -> int: observed, forced
    latest = registry.get("dataset:warehouse/orders")
    assert latest.metadata.version == "4"
    assert latest.spec["forceIncompatible"].startswith("schema observed by OpenLineage")
    assert [c.ref for c in registry.changes() if c.op == "dataset.schema"] == [
        "dataset:warehouse/orders@2",
        "dataset:warehouse/orders@3",
        "dataset:warehouse/orders@4",
    ]
    [forced] = [c for c in registry.changes() if c.op == "dataset.forced"]
    assert forced.ref == "dataset:warehouse/orders@4"


def test_column_lineage_on_the_edge(registry: Registry) -> None:
    ev = run_event(
        "COMPLETE",
        str(uuid.uuid4()),
        inputs=[{"namespace": "db", "name": "raw"}],
        outputs=[
            {
                "namespace": "db",
                "name": "clean",
                "facets": {
                    "columnLineage": {
                        "_producer": "https://example.com",
                        "_schemaURL": "https://example.com/cl",
                        "fields": {
                            "email": {
                                "inputFields": [
                                    {
                                        "namespace": "db",
                                        "name": "raw",
                                        "field": "EMAIL",
                                        "transformations": [
                                            {"type": "DIRECT", "subtype": "TRANSFORMATION"}
                                        ],
                                    }
                                ]
                            }
                        },
                    }
                },
            }
        ],
    )
    ingest(registry, ev, actor="a")
    graph = build_lineage_graph(registry, "dataset:db/clean", "upstream")
    [edge] = graph.edges
    assert (edge.source, edge.target, edge.relation) == (
        "dataset:db/raw@1",
        "dataset:db/clean@1",
        "derivedFrom",
    )
    assert edge.transformations[0]["columns"] == [
        {
            "field": "email",
            "inputField": "EMAIL",
            "transformations": [{"type": "DIRECT", "subtype": "TRANSFORMATION"}],
        }
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("grandmas.kitchen", "grandmas.kitchen"),
        ("postgres://db.host:5432", "postgres-db.host-5432"),
        ("Public.Orders", "public.orders"),
        ("a..b", "a.b"),
    ],
)
def test_names_map_to_registry_names(text: str, expected: str) -> None:
    assert slug(text, 63) == expected


def test_long_names_are_shortened_stably() -> None:
    long = "s3://" + "x" * 300
    out = slug(long, 63)
    assert len(out) <= 63 and out == slug(long, 63) and out != slug(long + "y", 63)
