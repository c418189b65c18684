"""The SQLite store checkpoints its write-ahead log in the background, not inside commits."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from conftest import build_doc
from hyper_registry import Registry, Settings
from hyper_registry.store import checkpoint


def _wal_pages(db: Path) -> tuple[int, int]:
    """(frames in the log, frames copied into the database) after a PASSIVE checkpoint."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        conn.close()
    return int(row[1]), int(row[2])


def test_commits_do_not_checkpoint_and_the_thread_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoint, "DELAY", 0.01)
    with Registry.open(Settings(data_dir=tmp_path)) as reg:
        with reg.store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        cp = reg.store._checkpointer  # type: ignore[attr-defined]
        assert cp is not None
        before = cp.checkpoints
        report = reg.apply_many(
            [build_doc(f"service:shop/s-{i}@1.0.0") for i in range(3000)], atomic=False
        )
        assert report.counts()["created"] == 3000
        deadline = time.monotonic() + 10
        while cp.checkpoints == before and time.monotonic() < deadline:
            time.sleep(0.01)
        assert cp.checkpoints > before
        # Checkpointed while the store is open: the log holds nothing left to copy.
        frames, copied = _wal_pages(tmp_path / "registry.db")
        assert frames == copied
    assert cp._thread is None  # closed with the store
    with Registry.open(Settings(data_dir=tmp_path)) as reg:
        assert reg.get("service:shop/s-2999@1.0.0").revision == 1


def test_a_stream_of_commits_shares_checkpoints(tmp_path: Path) -> None:
    """Commits every few milliseconds get one checkpoint per DELAY, not one each."""
    with Registry.open(Settings(data_dir=tmp_path)) as reg:
        cp = reg.store._checkpointer  # type: ignore[attr-defined]
        reg.apply(build_doc("service:shop/first@1.0.0"))
        time.sleep(checkpoint.DELAY * 2)
        before = cp.checkpoints
        started = time.monotonic()
        for i in range(200):
            reg.apply(build_doc(f"service:shop/s-{i}@1.0.0"))
        elapsed = time.monotonic() - started
        assert cp.checkpoints - before <= elapsed / checkpoint.DELAY + 2
