"""Tables of the ml domain (models and datasets: lineage, comparison, schema evolution, quality, OpenLineage).

Runs and their state history, lineage edges with the job and run that made them and
their column lineage, the last quality alert per dataset version, and the model
files index. ``hyper_registry/kinds/dataset/tables.py`` mirrors these definitions
(a test checks that they agree).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ml_runs",
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
    )
    op.create_index("ix_ml_runs_job", "ml_runs", ["job_key", "event_time"])
    op.create_table(
        "ml_run_states",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("event_time", sa.String(40), nullable=False),
        sa.Column("received_at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(253), nullable=False),
    )
    op.create_index("ix_ml_run_states_run", "ml_run_states", ["run_id", "id"])
    op.create_table(
        "ml_lineage_edges",
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
    )
    op.create_index("ix_ml_lineage_edges_dst", "ml_lineage_edges", ["dst_ref"])
    op.create_table(
        "ml_quality_state",
        sa.Column("ref_key", sa.String(600), primary_key=True),
        sa.Column("breaches", sa.Text(), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
    )
    op.create_table(
        "ml_model_files",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("ref_key", sa.String(600), primary_key=True),
        sa.Column("namespace", sa.String(63), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(253), nullable=False),
    )
    op.create_index("ix_ml_model_files_ref", "ml_model_files", ["ref_key"])


def downgrade() -> None:
    for name in (
        "ml_model_files",
        "ml_quality_state",
        "ml_lineage_edges",
        "ml_run_states",
        "ml_runs",
    ):
        op.drop_table(name)
