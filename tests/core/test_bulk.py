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
