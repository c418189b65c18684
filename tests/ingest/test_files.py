"""File ingest through the bulk prepare worker: the same outcomes as preparing in process.

Runs on SQLite and PostgreSQL (the ``open_registry`` fixture).
"""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa

from conftest import OpenRegistry
from hyper_registry.core.bulk import BulkPreparer
from hyper_registry.ingest.applier import Applier
from hyper_registry.ingest.sources.files import ingest_stream
from hyper_registry.ingest.tables import dead_letters, events

from .conftest import apply_msg, delete_msg, model_doc


def _lines() -> bytes:
    out: list[bytes] = []
    for i in range(60):
        out.append(apply_msg(f"e{i}", model_doc(f"m{i % 25}", seq=i)))  # updates after 25
        if i % 11 == 3:
            out.append(b"{not json")
        if i % 13 == 5:
            out.append(delete_msg(f"d{i}", f"model:team-a/m{i % 25}@1.0.0"))
        if i % 17 == 2:
            bad = model_doc("bad")
            bad["spec"]["framework"] = "cobol"
            out.append(apply_msg(f"b{i}", bad))
        if i % 19 == 7:
            out.append(apply_msg(f"e{i}", model_doc("repeat")))  # a repeated event id
    out.append(b"")  # blank lines are skipped
    return b"\n".join(out) + b"\n"


def _state(reg: Any) -> tuple[Any, ...]:
    with reg.store.engine.connect() as conn:
        taken = sorted(conn.execute(sa.select(events.c.event_id, events.c.outcome)).all())
        dead = sorted((r.position, r.code) for r in conn.execute(sa.select(dead_letters)).all())
    entries = sorted(
        (str(e.ref), e.revision, e.metadata.labels.get("seq"))
        for e in reg.query(kinds=["model"], limit=1000).items
    )
    return taken, dead, entries


def test_worker_prepared_file_ingest_matches_in_process(open_registry: OpenRegistry) -> None:
    data = _lines()
    here = open_registry(parallel_prepare_min=0)
    totals_here = ingest_stream(Applier(here, source="f"), io.BytesIO(data), batch_size=8)
    state_here = _state(here)
    # The first run's rows removed, the worker run must produce the same rows again.
    with here.store.engine.begin() as conn:
        for table in ("ingest_events", "ingest_dead_letters", "relations", "changes", "entries"):
            conn.exec_driver_sql(f"DELETE FROM {table}")
    there = open_registry(parallel_prepare_min=10, prepare_workers=1)
    totals_there = ingest_stream(Applier(there, source="f"), io.BytesIO(data), batch_size=8)
    assert there.extension(BulkPreparer)._proc is not None  # the worker did run
    assert (totals_there.received, totals_there.counts) == (
        totals_here.received,
        totals_here.counts,
    )
    assert _state(there) == state_here
    assert totals_here.counts["created"] >= 25 and totals_here.counts["dead"] > 0
