"""Bulk apply through the prepare worker: the same outcomes, refusals and order as in process."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import OpenRegistry, build_doc
from hyper_registry.core.bulk import BulkPreparer
from hyper_registry.core.errors import BatchRefused
from hyper_registry.core.registry import ApplyReport


def _docs() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for i in range(30):
        target = f"service:shop/svc-{i + 1}" if i % 3 else f"service:shop/svc-{i + 1}@1.0.0"
        docs.append(build_doc(f"service:shop/svc-{i}@1.0.0", relations=[("calls", target)]))
        docs.append(build_doc(f"model:ml/m-{i}@1.0.0", relations=[("uses", "dataset:ml/d")]))
    docs.append(build_doc("dataset:ml/d@2025-01"))
    docs.insert(7, {"kind": "service", "metadata": {"name": "no-namespace"}})
    docs.insert(20, build_doc("model:ml/bad@1.0.0", spec={"framework": "cobol"}))
    docs.insert(33, build_doc("service:shop/bad@1.0.0", bogus=1))
    return docs


def _summary(report: ApplyReport) -> tuple[list[Any], list[Any]]:
    return (
        [(r.index, str(r.ref)) for r in report.results],
        [(e.index, e.ref, type(e.error).__name__, str(e.error)) for e in report.errors],
    )


@pytest.mark.parametrize("atomic", [False, True])
def test_worker_prepares_like_the_process(open_registry: OpenRegistry, atomic: bool) -> None:
    docs = _docs()
    # Both registries share the test's database: the worker's writes come first, then
    # the same documents in process are all unchanged, with the same refusals.
    there = open_registry(parallel_prepare_min=10, prepare_workers=1)
    here = open_registry(parallel_prepare_min=0)
    if not atomic:
        got = there.apply_many(iter(docs), atomic=False, batch_size=8)
        expected = here.apply_many(docs, atomic=False, batch_size=8)
        assert _summary(got) == _summary(expected)
        assert [e.index for e in got.errors] == [7, 20, 33]
        assert got.counts()["created"] == len(docs) - 3
        assert expected.counts()["unchanged"] == len(docs) - 3
    else:
        with pytest.raises(BatchRefused) as refused:
            there.apply_many(docs, atomic=True, batch_size=8)
        assert [i.index for i in refused.value.items] == [7, 20, 33]
        good = [d for i, d in enumerate(docs) if i not in (7, 20, 33)]
        got = there.apply_many(good, atomic=True, batch_size=8)
        expected = here.apply_many(good, atomic=True, batch_size=8)
        assert _summary(got) == _summary(expected)
        assert got.counts()["created"] == len(good)
    assert there.extension(BulkPreparer)._proc is not None  # the worker did run
    # Relations written from worker-prepared documents resolve: pinned, and the latest
    # version of a dataset written after the model that names it.
    views = {v.other.name: v.resolved for v in there.relations("service:shop/svc-3@1.0.0")}
    assert str(views["svc-4"]) == "service:shop/svc-4@1.0.0"
    model = {v.other.name: v.resolved for v in there.relations("model:ml/m-3@1.0.0")}
    assert str(model["d"]) == "dataset:ml/d@2025-01"


def test_a_dead_worker_loses_nothing(open_registry: OpenRegistry) -> None:
    docs = [build_doc(f"service:shop/s-{i}@1.0.0") for i in range(40)]
    reg = open_registry(parallel_prepare_min=10, prepare_workers=1)
    reg.apply_many(docs[:20], atomic=False, batch_size=5)
    preparer = reg.extension(BulkPreparer)
    assert preparer._proc is not None
    preparer._proc.kill()
    preparer._proc.wait()
    report = reg.apply_many(docs, atomic=False, batch_size=5)
    assert report.counts() == {
        "created": 20, "updated": 0, "unchanged": 20, "deleted": 0, "refused": 0,
    }  # fmt: skip


def test_a_worker_running_other_code_is_not_trusted(
    open_registry: OpenRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hyper_registry.core.bulk as bulk

    monkeypatch.setattr(bulk, "wire_stamp", lambda: "another version")
    docs = [build_doc(f"service:shop/s-{i}@1.0.0") for i in range(30)]
    docs[12] = build_doc("service:shop/bad@1.0.0", bogus=1)
    reg = open_registry(parallel_prepare_min=10, prepare_workers=1)
    report = reg.apply_many(docs, atomic=False, batch_size=5)
    assert report.counts()["created"] == 29
    assert [e.index for e in report.errors] == [12]
    assert reg.extension(BulkPreparer)._broken


def _dataset(version: str, fields: list[tuple[str, str]], **spec: Any) -> dict[str, Any]:
    schema = {"fields": [{"name": n, "type": t} for n, t in fields]}
    return build_doc(
        f"dataset:ml/events@{version}",
        spec={"format": "parquet", "schema": schema, "compatibility": "BACKWARD", **spec},
    )


@pytest.mark.parametrize("parallel", [True, False])
def test_batch_rules_see_the_store_and_the_batch(
    open_registry: OpenRegistry, parallel: bool
) -> None:
    """Schema compatibility (a rule that reads the store) holds for worker-prepared documents
    too, against stored versions and against earlier versions in the same batch."""
    reg = open_registry(parallel_prepare_min=10 if parallel else 0, prepare_workers=1)
    reg.apply(_dataset("2025-01", [("id", "string"), ("amount", "double")]))
    filler = [build_doc(f"service:shop/s-{i}@1.0.0") for i in range(20)]
    docs = [
        *filler,
        # Adds a field with no default: BACKWARD refuses it (new readers, old data).
        _dataset("2025-02", [("id", "string"), ("amount", "double"), ("country", "string")]),
        # Drops a field: fine under BACKWARD; it is a change the history records.
        _dataset("2025-03", [("id", "string")]),
        # Adds back the dropped field against the version just above, in the same batch.
        _dataset("2025-04", [("id", "string"), ("amount", "double")]),
    ]
    report = reg.apply_many(docs, atomic=False, batch_size=50)
    refused = {e.ref: e.error for e in report.errors}
    assert set(refused) == {"dataset:ml/events@2025-02", "dataset:ml/events@2025-04"}
    assert "BACKWARD" in str(refused["dataset:ml/events@2025-02"].problems[0].message)
    assert report.counts()["created"] == 21
    if parallel:
        assert reg.extension(BulkPreparer)._proc is not None
    history = [c for c in reg.changes() if c.op == "dataset.schema"]
    assert [c.ref for c in history] == ["dataset:ml/events@2025-03"]
    assert history[0].detail["previous"] == "2025-01"


@pytest.mark.parametrize("parallel", [True, False])
def test_derived_status_is_written_with_the_entry(
    open_registry: OpenRegistry, parallel: bool
) -> None:
    reg = open_registry(parallel_prepare_min=10 if parallel else 0, prepare_workers=1)
    source = 'resource "aws_instance" "app" {\n  instance_type = "m5.large"\n}\n'
    docs = [build_doc(f"service:shop/s-{i}@1.0.0") for i in range(20)]
    docs.append(
        build_doc(
            "infra:shop/stack@1.0.0",
            spec={"templateType": "terraform", "providers": ["aws"], "source": source},
        )
    )
    reg.apply_many(docs, atomic=False, batch_size=50)
    entry = reg.get("infra:shop/stack@1.0.0")
    assert entry.status["infra"]["resourceTypes"] == {"aws_instance": 1}
    # An update replaces the derived keys and keeps the others.
    reg.store.set_status(entry.ref, {"note": "kept"}, actor="test")
    bigger = source + 'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n}\n'
    docs[-1]["spec"]["source"] = bigger
    reg.apply_many(docs, atomic=False, batch_size=50)
    entry = reg.get("infra:shop/stack@1.0.0")
    assert entry.revision == 2
    assert entry.status["infra"]["resourceTypes"] == {"aws_instance": 1, "aws_s3_bucket": 1}
    assert entry.status["note"] == "kept"


def test_a_session_prepares_batches_submitted_one_by_one(open_registry: OpenRegistry) -> None:
    reg = open_registry(prepare_workers=1)
    here = open_registry(parallel_prepare_min=0)
    first = _docs()[:25]
    second = [build_doc(f"service:shop/late-{i}@1.0.0") for i in range(5)]
    with reg.extension(BulkPreparer).session() as session:
        assert session is not None
        t1 = session.submit(first)
        t2 = session.submit(second)  # both with the worker before either is collected
        with pytest.raises(AssertionError):
            session.collect(t2, second)  # answers come back in the order submitted
    with reg.extension(BulkPreparer).session() as session:
        assert session is not None
        t1 = session.submit(first)
        t2 = session.submit(second)
        got1, got2 = session.collect(t1, first), session.collect(t2, second)
    expected = [here.pipeline.prepare(d, "apply") if i not in (7, 20) else None
                for i, d in enumerate(first[:21])]  # fmt: skip
    assert [type(g).__name__ for g in got1].count("Invalid") == 2  # positions 7 and 20
    for g, e in zip(got1, expected, strict=False):
        if e is not None:
            assert g.ref == e.ref and g.body_json == e.body_json  # type: ignore[union-attr]
    assert [str(g.ref) for g in got2] == [f"service:shop/late-{i}@1.0.0" for i in range(5)]  # type: ignore[union-attr]
    assert reg.extension(BulkPreparer)._proc is not None
