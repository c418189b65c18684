"""Tables of the services domain: health results, per-service check state, leases, workers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "service_health_results",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("ref", sa.String(600), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("worker", sa.String(100), nullable=False),
    )
    op.create_index("ix_service_health_results_ref_at", "service_health_results", ["ref", "at"])
    op.create_index("ix_service_health_results_at", "service_health_results", ["at"])
    op.create_table(
        "service_checks",
        sa.Column("ref", sa.String(600), primary_key=True),
        sa.Column("namespace", sa.String(63), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("since", sa.Float(), nullable=False),
        sa.Column("checked_at", sa.Float(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("worker", sa.String(100), nullable=False),
    )
    op.create_table(
        "service_leases",
        sa.Column("ref", sa.String(600), primary_key=True),
        sa.Column("owner", sa.String(100), nullable=True),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("ttl", sa.Float(), nullable=False),
    )
    op.create_index("ix_service_leases_owner", "service_leases", ["owner"])
    op.create_index("ix_service_leases_expires", "service_leases", ["expires_at"])
    op.create_table(
        "service_workers",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("seen_at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("service_workers")
    op.drop_index("ix_service_leases_expires", table_name="service_leases")
    op.drop_index("ix_service_leases_owner", table_name="service_leases")
    op.drop_table("service_leases")
    op.drop_table("service_checks")
    op.drop_index("ix_service_health_results_at", table_name="service_health_results")
    op.drop_index("ix_service_health_results_ref_at", table_name="service_health_results")
    op.drop_table("service_health_results")
