"""POST /v1/bulk (NDJSON, streamed), the dead-letter routes and GET /metrics."""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from hyper_registry import Registry
from hyper_registry.auth.tokens import Principal
from hyper_registry.ingest.applier import Applier
from hyper_registry.ingest.messages import Raw

from .conftest import Api, Tokens, assert_problem, doc

NDJSON = {"Content-Type": "application/x-ndjson"}


def line(event_id: str | None, document: dict[str, object]) -> bytes:
    body: dict[str, object] = {"document": document}
    if event_id:
        body["id"] = event_id
    return orjson.dumps(body) + b"\n"


def test_bulk_applies_each_line_and_answers_per_line(api: Api, reg: Registry) -> None:
    body = (
        line("e1", doc("model:team-a/a@1.0.0"))
        + b"\n"  # blank lines are skipped (but counted in line numbers)
        + b"{oops\n"
        + line("e2", doc("model:team-a/b@bad"))
        + orjson.dumps({"id": "e3", "op": "delete", "ref": "model:team-a/a@1.0.0"})
        + b"\n"
        + line("e1", doc("model:team-a/a@1.0.0"))
    )
    r = api.post("/v1/bulk", content=body, headers=NDJSON)
    assert r.status_code == 200, r.text
    out = r.json()
    results = out["results"]
    assert [x["outcome"] for x in results] == [
        "created",
        "refused",
        "refused",
        "deleted",
        "duplicate",
    ]
    assert [x["position"] for x in results] == ["line 1", "line 3", "line 4", "line 5", "line 6"]
    assert results[1]["error"]["code"] == "not-json"
    assert "metadata.version" in results[2]["error"]["detail"]
    assert results[0]["ref"] == "model:team-a/a@1.0.0" and results[0]["id"] == "e1"
    assert out["counts"]["created"] == 1 and out["counts"]["refused"] == 2
    # The caller has the refusals: nothing goes to the dead-letter table.
    assert api.get("/v1/dlq").json()["items"] == []
    # Retrying the whole body is harmless: applied event ids are duplicates; refused
    # ones were not recorded (the caller fixes and resends them under the same id).
    again = api.post("/v1/bulk", content=body, headers=NDJSON).json()
    assert [x["outcome"] for x in again["results"]] == [
        "duplicate",
        "refused",
        "refused",
        "duplicate",
        "duplicate",
    ]


def test_bulk_reads_a_chunked_stream_in_batches(api: Api, reg: Registry) -> None:
    n = 2500

    def chunks() -> Iterator[bytes]:
        for i in range(n):
            yield line(f"e{i}", doc(f"model:team-a/m{i}@1.0.0"))

    reg.settings.ingest_batch_size = 1000
    r = api.post("/v1/bulk", content=chunks(), headers=NDJSON)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["counts"]["created"] == n
    assert [x["index"] for x in out["results"]] == list(range(n))
    assert reg.count(kinds=["model"]) == n


def test_bulk_line_without_newline_and_oversized_line(api: Api, reg: Registry) -> None:
    limit = reg.settings.ingest_max_message_bytes
    big = b'{"id": "big", "document": {"pad": "' + b"x" * (limit + 10) + b'"}}\n'
    body = big + line("ok", doc("model:team-a/ok@1.0.0")).rstrip(b"\n")
    out = api.post("/v1/bulk", content=body, headers=NDJSON).json()
    assert [x["outcome"] for x in out["results"]] == ["refused", "created"]
    assert out["results"][0]["error"]["code"] == "too-large"
    assert out["results"][1]["position"] == "line 2"


def test_bulk_scoped_token_refuses_other_namespaces(api: Api, tokens: Tokens) -> None:
    body = line("a", doc("model:team-a/x@1.0.0")) + line("b", doc("model:team-b/x@1.0.0"))
    out = api.as_(tokens.writer_a).post("/v1/bulk", content=body, headers=NDJSON).json()
    assert [x["outcome"] for x in out["results"]] == ["created", "refused"]
    assert out["results"][1]["error"]["code"] == "forbidden"


def test_bulk_needs_a_writer_and_ndjson(api: Api, tokens: Tokens) -> None:
    body = line("a", doc("model:team-a/x@1.0.0"))
    assert_problem(api.as_(tokens.reader).post("/v1/bulk", content=body, headers=NDJSON), 403)
    assert_problem(api.as_(None).post("/v1/bulk", content=body, headers=NDJSON), 401)
    assert_problem(
        api.post("/v1/bulk", content=body, headers={"Content-Type": "application/json"}), 415
    )


def test_bulk_body_over_the_limit(api: Api, reg: Registry) -> None:
    big = line("a", doc("model:team-a/x@1.0.0")) * 10
    reg.settings.max_bulk_bytes = len(big) - 1
    assert_problem(api.post("/v1/bulk", content=big, headers=NDJSON), 413)


def test_dead_letters_are_listed_by_namespace_and_replayed(
    api: Api, reg: Registry, tokens: Tokens
) -> None:
    bot = Principal("bot", "writer", frozenset({"team-a"}))
    Applier(reg, source="nats://x/y", principal=bot).apply(
        [
            Raw(line("a", doc("model:team-b/x@1.0.0")).strip(), "seq 1"),
            Raw(line("b", doc("model:team-a/y@bad")).strip(), "seq 2"),
            Raw(b"garbage", "seq 3"),
        ]
    )
    items = api.get("/v1/dlq").json()["items"]
    assert [(d["code"], d["namespace"]) for d in items] == [
        ("forbidden", "team-b"),
        ("invalid", "team-a"),
        ("not-json", None),
    ]
    assert items[2]["payload"] == "garbage" and items[2]["position"] == "seq 3"
    scoped = api.as_(tokens.reader_a).get("/v1/dlq").json()["items"]
    assert [d["namespace"] for d in scoped] == ["team-a"]
    page = api.get("/v1/dlq", params={"limit": 2}).json()
    assert len(page["items"]) == 2 and page["nextCursor"] == items[1]["id"]
    assert_problem(api.get("/v1/dlq", params={"bogus": 1}), 422)
    # team-a's writer cannot replay team-b's dead letter: it does not see it.
    out = api.as_(tokens.writer_a).post("/v1/dlq/replay", json={"ids": [items[0]["id"]]}).json()
    assert out["results"][0]["outcome"] == "not-found"
    assert_problem(api.as_(tokens.reader).post("/v1/dlq/replay", json={"all": True}), 403)
    assert_problem(api.post("/v1/dlq/replay", json={}), 422)
    out = api.post("/v1/dlq/replay", json={"all": True}).json()
    assert [r["outcome"] for r in out["results"]] == ["created", "refused", "refused"]
    assert reg.get("model:team-b/x@1.0.0").revision == 1
    assert len(api.get("/v1/dlq").json()["items"]) == 2


def test_metrics_need_a_token_and_count_bulk_traffic(api: Api, tokens: Tokens) -> None:
    api.post("/v1/bulk", content=line("a", doc("model:team-a/x@1.0.0")) + b"nope\n", headers=NDJSON)
    assert_problem(api.as_(None).get("/metrics"), 401)
    r = api.as_(tokens.reader_a).get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'hyper_registry_ingest_received_total{source="http"} 2.0' in text
    assert 'hyper_registry_ingest_applied_total{outcome="created",source="http"} 1.0' in text
    assert 'hyper_registry_ingest_dead_lettered_total{source="http"} 1.0' in text
    assert "hyper_registry_ingest_batch_size_bucket" in text
    assert "hyper_registry_ingest_throughput" in text
