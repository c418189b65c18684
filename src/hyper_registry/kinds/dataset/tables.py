"""The ml domain's own tables (created by migration 0004_ml): runs, lineage edges, quality.

Entries stay in the core ``entries`` table, written only through the pipeline; these
tables hold derived data the pipeline does not: OpenLineage runs and their state
history, the jobs (transformations) seen on each lineage edge with their column
lineage, and the last quality alert raised per dataset version (so an unchanged
breach is not raised again on every write).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from hyper_registry.store.schema import BigId

metadata = sa.MetaData()

runs = sa.Table(
    "ml_runs",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("namespace", sa.String(63), nullable=False),
    sa.Column("job_key", sa.String(320), nullable=False),
    sa.Column("job_namespace", sa.Text(), nullable=False),
    sa.Column("job_name", sa.Text(), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("event_time", sa.String(40), nullable=False),
    sa.Column("started_at", sa.String(40), nullable=True),
    sa.Column("ended_at", sa.String(40), nullable=True),
    sa.Column("parent_run_id", sa.String(64), nullable=True),
    sa.Column("updated_at", sa.String(32), nullable=False),
    sa.Index("ix_ml_runs_job", "job_key", "event_time"),
)

run_states = sa.Table(
    "ml_run_states",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("event_time", sa.String(40), nullable=False),
    sa.Column("received_at", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(253), nullable=False),
    sa.Index("ix_ml_run_states_run", "run_id", "id"),
)

lineage_edges = sa.Table(
    "ml_lineage_edges",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("src_ref", sa.String(600), nullable=False),
    sa.Column("dst_ref", sa.String(600), nullable=False),
    sa.Column("job_key", sa.String(320), nullable=False),
    sa.Column("job_namespace", sa.Text(), nullable=False),
    sa.Column("job_name", sa.Text(), nullable=False),
    sa.Column("run_id", sa.String(64), nullable=True),
    sa.Column("event_time", sa.String(40), nullable=False),
    sa.Column("columns", sa.Text(), nullable=True),
    sa.UniqueConstraint("src_ref", "dst_ref", "job_key", name="uq_ml_lineage_edges"),
    sa.Index("ix_ml_lineage_edges_dst", "dst_ref"),
)
"""One row per (input dataset, output dataset, job): ``src_ref`` feeds ``dst_ref``."""

quality_state = sa.Table(
    "ml_quality_state",
    metadata,
    sa.Column("ref_key", sa.String(600), primary_key=True),
    sa.Column("breaches", sa.Text(), nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
)

model_files = sa.Table(
    "ml_model_files",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("ref_key", sa.String(600), primary_key=True),
    sa.Column("namespace", sa.String(63), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("format", sa.String(32), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(253), nullable=False),
    sa.Index("ix_ml_model_files_ref", "ref_key"),
)
"""The model files index: which content (by sha256) was uploaded for which model version."""


@contextmanager
def write_tx(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A write transaction (BEGIN IMMEDIATE on SQLite, like the store's own writers)."""
    with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn, conn.begin():
        yield conn


_UPSERT_EDGE = sa.text(
    "INSERT INTO ml_lineage_edges (src_ref, dst_ref, job_key, job_namespace, job_name, run_id,"
    " event_time, columns) VALUES (:src_ref, :dst_ref, :job_key, :job_namespace, :job_name,"
    " :run_id, :event_time, :columns)"
    " ON CONFLICT (src_ref, dst_ref, job_key) DO UPDATE SET job_namespace = excluded.job_namespace,"
    " job_name = excluded.job_name, run_id = excluded.run_id, event_time = excluded.event_time,"
    " columns = COALESCE(excluded.columns, ml_lineage_edges.columns)"
)
"""One statement on SQLite (3.24+) and PostgreSQL: insert, or refresh the existing edge."""


def upsert_edge(
    conn: sa.Connection,
    *,
    src_ref: str,
    dst_ref: str,
    job_key: str,
    job_namespace: str,
    job_name: str,
    run_id: str | None,
    event_time: str,
    columns: str | None,
) -> None:
    """Insert or refresh the (src, dst, job) edge; known column lineage is kept if none is given."""
    conn.execute(
        _UPSERT_EDGE,
        {
            "src_ref": src_ref,
            "dst_ref": dst_ref,
            "job_key": job_key,
            "job_namespace": job_namespace,
            "job_name": job_name,
            "run_id": run_id,
            "event_time": event_time,
            "columns": columns,
        },
    )


def upsert_edges(conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """``upsert_edge`` for many edges at once (one ``executemany``)."""
    if rows:
        conn.execute(_UPSERT_EDGE, list(rows))
