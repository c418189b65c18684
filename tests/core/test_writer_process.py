"""The writer process: group commits of several serving processes, merged, on SQLite."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conftest import build_doc
from hyper_registry import AlreadyExists, Conflict, Registry, Settings, Unavailable
from hyper_registry.core.writer_process import WriterHandle, start_writer
from hyper_registry.store.base import WriteResult


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[tuple[Settings, WriterHandle]]:
    settings = Settings(data_dir=tmp_path, database_url=None)
    Registry.open(settings).close()  # migrated, as ``serve`` does before starting it
    handle = start_writer(settings)
    try:
        yield settings.model_copy(update={"writer_socket": handle.path}), handle
    finally:
        handle.stop()
    assert not os.path.exists(handle.path)


def test_workers_writes_are_committed_by_the_writer(
    writer: tuple[Settings, WriterHandle],
) -> None:
    settings, handle = writer
    seen: list[str] = []
    with Registry(settings) as one, Registry(settings) as two:
        one.subscribe(lambda results: seen.extend(str(r.ref) for r in results))

        def create(i: int) -> Any:
            reg = one if i % 2 else two
            try:
                return reg.register(build_doc(f"service:shop/s{i}@1.0.0"), actor=f"user{i}")
            except AlreadyExists as exc:
                return exc

        with ThreadPoolExecutor(16) as pool:
            created = list(pool.map(create, range(60)))
            again = list(pool.map(create, range(10)))
        assert [str(e.ref) for e in created] == [f"service:shop/s{i}@1.0.0" for i in range(60)]
        assert all(isinstance(e, AlreadyExists) for e in again)
        # Each caller got its own entry, as stored; the store holds each once.
        for e in created[:5]:
            assert one.get(e.ref) == e
        assert one.count() == 60
        assert sorted((c.actor, c.ref) for c in one.changes(limit=500)) == sorted(
            (f"user{i}", f"service:shop/s{i}@1.0.0") for i in range(60)
        )
        # The after-commit listeners ran here, in the process that registered them.
        assert sorted(seen) == sorted(f"service:shop/s{i}@1.0.0" for i in range(1, 60, 2))
        # Updates with a stale revision are refused through the writer too.
        doc = build_doc("service:shop/s1@1.0.0", description="changed")
        assert one.update(doc, expected_revision=1).revision == 2
        with pytest.raises(Conflict):
            two.update(doc | {"metadata": {**doc["metadata"], "title": "x"}}, expected_revision=1)
    assert handle.proc.poll() is None  # still serving others


def test_a_dead_writer_refuses_what_it_had_then_the_worker_commits_itself(
    writer: tuple[Settings, WriterHandle],
) -> None:
    settings, handle = writer
    with Registry(settings) as reg:
        assert reg.register(build_doc("service:shop/first@1.0.0")).revision == 1
        os.kill(handle.proc.pid, signal.SIGKILL)
        handle.proc.wait()
        with pytest.raises(Unavailable):
            reg.register(build_doc("service:shop/lost@1.0.0"))
        later = reg.register(build_doc("service:shop/later@1.0.0"))
        assert isinstance(later.uid, str) and reg.count() == 2


def test_results_come_back_light(writer: tuple[Settings, WriterHandle]) -> None:
    """A created entry comes back as the values it is built from, not the whole write."""
    from hyper_registry.core.writer_process import _result_to_wire
    from hyper_registry.store.writer import EntryBuild

    settings, _ = writer
    with Registry(settings) as reg:
        item = reg.prepare_create(build_doc("service:shop/x@1.0.0"))
        result = reg.pipeline.commit([item], actor="t", atomic=False)[0]
        assert isinstance(result, WriteResult)
        assert isinstance(result.pending_build, EntryBuild)
        wire = _result_to_wire(result)
        assert wire[0] == "lazy" and item not in wire
        assert result.entry is not None and result.entry.uid == wire[3]


def test_a_failing_commit_refuses_its_group_and_the_writer_goes_on(tmp_path: Path) -> None:
    """An unexpected error in the writer's transaction (here: a kind hook that raises)
    refuses the groups it held; the next groups commit."""
    import socket
    import threading

    from hyper_registry.core.writer_process import RemoteWriter, serve_writer

    settings = Settings(data_dir=tmp_path, database_url=None)
    Registry.open(settings).close()
    path = str(tmp_path / "w.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(4)
    calls = {"n": 0}
    import hyper_registry.core.pipeline as pipeline_module

    original = pipeline_module.WritePipeline.write

    def flaky(self: Any, items: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom")
        return original(self, items, **kwargs)

    pipeline_module.WritePipeline.write = flaky  # type: ignore[method-assign]
    try:
        # The writer's loop runs in a thread of this test process, on its own registry.
        server = threading.Thread(target=serve_writer, args=(settings, listener), daemon=True)
        server.start()
        client = RemoteWriter(path)
        with Registry(settings) as reg:
            first = reg.prepare_create(build_doc("service:shop/a@1.0.0"))
            assert client.send([first], actor="t")
            with pytest.raises(Unavailable, match="RuntimeError"):
                client.receive([first])
            second = reg.prepare_create(build_doc("service:shop/b@1.0.0"))
            assert client.send([second], actor="t")
            (result,) = client.receive([second])
            assert isinstance(result, WriteResult) and result.outcome == "created"
            assert result.entry is not None and reg.get(result.ref) == result.entry
            assert reg.count() == 1
        client.close()
    finally:
        pipeline_module.WritePipeline.write = original  # type: ignore[method-assign]
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
    server.join(timeout=10)
    assert not server.is_alive()  # a closed listener stops the writer
