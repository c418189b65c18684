"""One batch through the write pipeline: exactly once per event id, in order, dead letters.

Runs on SQLite and PostgreSQL (the ``registry`` fixture).
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from hyper_registry import Registry
from hyper_registry.auth.tokens import Principal
from hyper_registry.core.errors import Conflict, Forbidden
from hyper_registry.ingest import dlq
from hyper_registry.ingest.applier import Applier
from hyper_registry.ingest.messages import Raw
from hyper_registry.ingest.metrics import IngestMetrics
from hyper_registry.ingest.tables import dead_letters, events

from .conftest import apply_msg, delete_msg, model_doc


def raws(*payloads: bytes) -> list[Raw]:
    return [Raw(p, f"line {i + 1}") for i, p in enumerate(payloads)]


def event_rows(registry: Registry) -> dict[str, str]:
    with registry.store.engine.connect() as conn:
        return dict(conn.execute(sa.select(events.c.event_id, events.c.outcome)).all())


def dead_rows(registry: Registry) -> list[Any]:
    with registry.store.engine.connect() as conn:
        return list(conn.execute(sa.select(dead_letters).order_by(dead_letters.c.id)).all())


def test_applies_and_records_event_ids(registry: Registry) -> None:
    applier = Applier(registry, source="test")
    report = applier.apply(raws(apply_msg("e1", model_doc("a")), apply_msg("e2", model_doc("b"))))
    assert report.counts["created"] == 2 and report.applied == 2
    assert registry.get("model:team-a/a@1.0.0").metadata.name == "a"
    assert event_rows(registry) == {"e1": "applied", "e2": "applied"}


def test_a_redelivered_event_applies_once(registry: Registry) -> None:
    applier = Applier(registry, source="test")
    first = apply_msg("e1", model_doc("a", tier="one"))
    second = apply_msg("e2", model_doc("a", tier="two"))
    applier.apply(raws(first, second))
    assert registry.get("model:team-a/a@1.0.0").revision == 2
    # The broker delivers both again (the consumer died before acknowledging them).
    again = applier.apply(raws(first, second))
    assert again.counts["duplicate"] == 2 and again.applied == 0
    entry = registry.get("model:team-a/a@1.0.0")
    assert entry.revision == 2 and entry.metadata.labels["tier"] == "two"
    changes = [c for c in registry.changes() if c.ref == "model:team-a/a@1.0.0"]
    assert [c.op for c in changes] == ["create", "update"]


def test_repeats_inside_a_batch_keep_the_first(registry: Registry) -> None:
    applier = Applier(registry, source="test")
    report = applier.apply(
        raws(
            apply_msg("e1", model_doc("a", tier="first")), apply_msg("e1", model_doc("a", tier="x"))
        )
    )
    assert report.counts["created"] == 1 and report.counts["duplicate"] == 1
    assert registry.get("model:team-a/a@1.0.0").metadata.labels["tier"] == "first"


def test_changes_to_one_entry_apply_in_order(registry: Registry) -> None:
    applier = Applier(registry, source="test")
    msgs = [apply_msg(f"e{i}", model_doc("a", step=i)) for i in range(5)]
    msgs.append(delete_msg("d1", "model:team-a/a@1.0.0"))
    msgs.append(apply_msg("e9", model_doc("a", step=9)))
    report = applier.apply(raws(*msgs))
    assert report.counts == {
        "created": 2,
        "updated": 4,
        "unchanged": 0,
        "deleted": 1,
        "duplicate": 0,
        "stale": 0,
        "dead": 0,
    }
    entry = registry.get("model:team-a/a@1.0.0")
    assert entry.metadata.labels["step"] == "9" and entry.revision == 1


def test_dead_letters_with_reason_position_and_payload(registry: Registry) -> None:
    applier = Applier(registry, source="file.jsonl", metrics=registry.extension(IngestMetrics))
    bad_rule = model_doc("r")
    bad_rule["metadata"]["version"] = "not-semver"
    unknown = model_doc("u")
    unknown["kind"] = "spaceship"
    payloads = [
        b"this is not json",
        orjson.dumps({"id": "s1", "op": "merge", "document": {}}),
        apply_msg("k1", bad_rule),
        apply_msg("k2", unknown),
        apply_msg("ok", model_doc("fine")),
        delete_msg("gone", "model:team-a/never@1.0.0"),
    ]
    report = applier.apply(raws(*payloads))
    assert report.counts["created"] == 1 and report.counts["dead"] == 5
    rows = dead_rows(registry)
    by_pos = {r.position: r for r in rows}
    assert by_pos["line 1"].code == "not-json" and "line 1" in by_pos["line 1"].reason
    assert bytes(by_pos["line 1"].payload) == b"this is not json"
    assert by_pos["line 2"].code == "bad-shape"
    assert by_pos["line 3"].code == "invalid" and "metadata.version" in by_pos["line 3"].reason
    assert by_pos["line 3"].namespace == "team-a" and by_pos["line 3"].event_id == "k1"
    assert "unknown kind 'spaceship'" in by_pos["line 4"].reason
    assert by_pos["line 6"].code == "not-found"
    assert all(r.source == "file.jsonl" for r in rows)
    # Dead events are remembered: a redelivery does not dead-letter them twice.
    applier.apply(raws(*payloads[1:]))
    assert len(dead_rows(registry)) == 5
    text = registry.extension(IngestMetrics).render().decode()
    assert 'hyper_registry_ingest_dead_lettered_total{source="file"} 5.0' in text
    assert 'hyper_registry_ingest_duplicates_total{source="file"} 5.0' in text


def test_oversized_message_is_dead_lettered_with_its_head(registry: Registry) -> None:
    applier = Applier(registry, source="test")
    limit = registry.settings.ingest_max_message_bytes
    big = b'{"id": "big", "document": {"x": "' + b"a" * limit + b'"}}'
    report = applier.apply([Raw(big, "line 1")])
    assert report.counts["dead"] == 1
    (row,) = dead_rows(registry)
    assert row.code == "too-large" and row.truncated
    assert bytes(row.payload) == big[: len(row.payload)] and len(row.payload) == 64 * 1024


def test_namespaces_the_token_may_not_write_are_dead_lettered(registry: Registry) -> None:
    scoped = Principal("ci-bot", "writer", frozenset({"team-a"}))
    applier = Applier(registry, source="test", principal=scoped)
    report = applier.apply(
        raws(
            apply_msg("mine", model_doc("a")),
            apply_msg("theirs", model_doc("b", ns="team-b")),
            delete_msg("del", "model:team-b/x@1.0.0"),
        )
    )
    assert report.counts["created"] == 1 and report.counts["dead"] == 2
    rows = dead_rows(registry)
    assert {r.code for r in rows} == {"forbidden"}
    assert "may not write namespace 'team-b'" in rows[0].reason
    assert rows[0].actor == "ci-bot"
    assert registry.get("model:team-a/a@1.0.0").revision == 1


def test_a_reader_token_cannot_ingest(registry: Registry) -> None:
    with pytest.raises(Forbidden):
        Applier(registry, source="test", principal=Principal("r", "reader", None))


def test_replay_applies_once_the_cause_is_fixed(registry: Registry) -> None:
    scoped = Principal("ci-bot", "writer", frozenset({"team-a"}))
    Applier(registry, source="test", principal=scoped).apply(
        raws(apply_msg("x1", model_doc("b", ns="team-b")), b"garbage")
    )
    page = dlq.list_dead(registry)
    assert [d["code"] for d in page["items"]] == ["forbidden", "not-json"]
    # A token for team-a sees neither (one is team-b's, the other has no namespace).
    assert dlq.list_dead(registry, principal=scoped)["items"] == []
    # The admin replays: the forbidden one applies now, the garbage stays open.
    out = dlq.replay(registry)
    outcomes = {r["deadLetter"]: r["outcome"] for r in out["results"]}
    ids = [d["id"] for d in page["items"]]
    assert outcomes == {ids[0]: "created", ids[1]: "refused"}
    assert registry.get("model:team-b/b@1.0.0").revision == 1
    assert [d["id"] for d in dlq.list_dead(registry)["items"]] == [ids[1]]
    assert len(dlq.list_dead(registry, include_replayed=True)["items"]) == 2
    assert event_rows(registry)["x1"] == "applied"
    # Replaying again changes nothing.
    again = dlq.replay(registry, ids=[ids[0], ids[1], 999])
    assert {r["outcome"] for r in again["results"]} == {"refused", "not-found"}
    assert len(dead_rows(registry)) == 2


def test_entries_and_event_ids_commit_together(registry: Registry) -> None:
    """A batch that fails inside its transaction leaves neither entries nor event ids."""
    applier = Applier(registry, source="test")
    with registry.store.engine.begin() as conn:  # another writer took "e2" already
        conn.execute(events.insert().values(event_id="e2", outcome="applied", at="x"))
    real_known = applier._known

    def nothing_known(ids: set[str], *, only_applied: bool) -> set[str]:
        return set()

    applier._known = nothing_known  # type: ignore[method-assign]
    with pytest.raises(Conflict):
        applier.apply(raws(apply_msg("e1", model_doc("a")), apply_msg("e2", model_doc("b"))))
    applier._known = real_known  # type: ignore[method-assign]
    assert registry.count() == 0
    assert "e1" not in event_rows(registry)
    # With the lookup working, the retry skips e2 and applies e1.
    report = applier.apply(raws(apply_msg("e1", model_doc("a")), apply_msg("e2", model_doc("b"))))
    assert report.counts["created"] == 1 and report.counts["duplicate"] == 1


def at(data: bytes, pos: int, scope: str = "nats:S") -> Raw:
    return Raw(data, f"seq {pos}", f"{scope}:{pos}", scope=scope, order=f"{pos:020d}")


def test_a_change_redelivered_after_a_newer_one_is_stale(registry: Registry) -> None:
    """Broker positions keep one entry's changes in order across batches and replicas."""
    applier = Applier(registry, source="test")
    applier.apply([at(apply_msg(None, model_doc("a", v="new")), 7)])
    # Position 5 (older) arrives late: a replica died holding it, or its reply was lost.
    late = applier.apply(
        [at(apply_msg(None, model_doc("a", v="old")), 5), at(apply_msg(None, model_doc("b")), 6)]
    )
    assert late.counts["stale"] == 1 and late.counts["created"] == 1
    assert registry.get("model:team-a/a@1.0.0").metadata.labels["v"] == "new"
    # Inside one batch as well; and positions of another stream are not compared.
    mixed = applier.apply(
        [
            at(apply_msg(None, model_doc("a", v="newer")), 9),
            at(apply_msg(None, model_doc("a", v="older")), 8),
            at(apply_msg(None, model_doc("a", v="other")), 1, scope="redis:k"),
        ]
    )
    assert mixed.counts["stale"] == 1 and mixed.counts["updated"] == 2
    assert registry.get("model:team-a/a@1.0.0").metadata.labels["v"] == "other"
    assert event_rows(registry)["nats:S:5"] == "stale"


def test_rules_that_read_the_store_run_over_the_batch(registry: Registry) -> None:
    """Schema compatibility, checked once per batch: against the stored version and an
    earlier version in the same batch; a refused version is dead-lettered at its line."""

    def dataset(version: str, fields: list[str]) -> dict[str, Any]:
        return {
            "apiVersion": "hyper-registry/v1",
            "kind": "dataset",
            "metadata": {"namespace": "team-a", "name": "events", "version": version},
            "spec": {
                "format": "parquet",
                "schema": {"fields": [{"name": f, "type": "string"} for f in fields]},
                "compatibility": "BACKWARD",
            },
        }

    registry.apply(dataset("2025-01", ["id", "country"]))
    applier = Applier(registry, source="file.jsonl", metrics=registry.extension(IngestMetrics))
    report = applier.apply(
        raws(
            apply_msg("a", dataset("2025-02", ["id"])),  # drops a field: compatible
            apply_msg("b", dataset("2025-03", ["id", "city"])),  # adds one: refused
            apply_msg("c", model_doc("fine")),
        )
    )
    assert report.counts["created"] == 2 and report.counts["dead"] == 1
    [row] = dead_rows(registry)
    assert row.position == "line 2" and row.code == "invalid"
    assert "BACKWARD" in row.reason and row.event_id == "b"
    assert [c.ref for c in registry.changes() if c.op == "dataset.schema"] == [
        "dataset:team-a/events@2025-02"
    ]
