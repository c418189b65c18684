"""Group commit of OpenLineage events: concurrent events share commits, lose nothing, and a
refused event is refused alone."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from hyper_registry import Registry
from hyper_registry.core.errors import Conflict, Invalid
from hyper_registry.kinds.dataset.olbatch import OpenLineageBatcher
from hyper_registry.kinds.dataset.openlineage import run_history


def event(
    state: str, run_id: str, job: str, inputs: list[str], outputs: list[str]
) -> dict[str, Any]:
    return {
        "eventType": state,
        "eventTime": "2024-01-01T00:00:00Z",
        "run": {"runId": run_id},
        "job": {"namespace": "etl", "name": job},
        "inputs": [{"namespace": "db", "name": n} for n in inputs],
        "outputs": [{"namespace": "db", "name": n} for n in outputs],
        "producer": "https://example.com/p",
    }


def run_concurrently(batcher: OpenLineageBatcher, events: list[dict[str, Any]]) -> list[Any]:
    results: list[Any] = [None] * len(events)
    start = threading.Barrier(len(events))

    def send(i: int) -> None:
        start.wait()
        try:
            results[i] = batcher.submit(events[i], actor="t")
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(events))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_jobs_writing_one_dataset_lose_nothing(registry: Registry) -> None:
    batcher = registry.extension(OpenLineageBatcher)
    events = [
        event("COMPLETE", str(uuid.uuid4()), f"job_{i}", [f"src_{i}"], ["shared"])
        for i in range(12)
    ]
    results = run_concurrently(batcher, events)
    assert all(isinstance(r, dict) for r in results), results
    spec = registry.get("dataset:db/shared").spec
    assert sorted(t["name"] for t in spec["transformations"]) == sorted(
        f"job_{i}" for i in range(12)
    )
    assert len(registry.versions("dataset:db/shared")) == 1


def test_a_refused_event_is_refused_alone(registry: Registry) -> None:
    batcher = registry.extension(OpenLineageBatcher)
    done = str(uuid.uuid4())
    batcher.submit(event("COMPLETE", done, "j", ["a"], ["b"]), actor="t")
    events = [event("COMPLETE", str(uuid.uuid4()), f"k{i}", ["a"], [f"o{i}"]) for i in range(6)]
    events.insert(3, event("START", done, "j", ["a"], ["b"]))  # backwards: refused
    results = run_concurrently(batcher, events)
    assert isinstance(results[3], Conflict)
    assert [isinstance(r, dict) for i, r in enumerate(results) if i != 3] == [True] * 6
    for i in range(6):
        assert registry.get(f"dataset:db/o{i}").spec["transformations"][0]["name"] == f"k{i}"
    history = run_history(registry, done)
    assert history is not None and [h["state"] for h in history["history"]] == ["COMPLETE"]


def test_events_of_one_run_keep_their_order(registry: Registry) -> None:
    batcher = registry.extension(OpenLineageBatcher)
    run_id = str(uuid.uuid4())
    for state in ("START", "RUNNING", "COMPLETE"):
        batcher.submit(event(state, run_id, "j", ["a"], ["b"]), actor="t")
    history = run_history(registry, run_id)
    assert history is not None
    assert [h["state"] for h in history["history"]] == ["START", "RUNNING", "COMPLETE"]


def test_malformed_events_fail_in_the_callers_thread(registry: Registry) -> None:
    batcher = registry.extension(OpenLineageBatcher)
    with pytest.raises(Invalid) as err:
        batcher.submit({"eventType": "START"}, actor="t")
    assert {p.path for p in err.value.problems} >= {"run", "job", "eventTime", "producer"}
