"""The services domain's own tables (created by migration 0006_services).

Times are seconds since the epoch (floats): leases and windows are arithmetic on them,
the same on SQLite and PostgreSQL. The API renders them as RFC 3339 text.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

results = sa.Table(
    "service_health_results",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("ref", sa.String(600), nullable=False),
    sa.Column("at", sa.Float(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("latency_ms", sa.Float(), nullable=False),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("worker", sa.String(100), nullable=False),
    sa.Index("ix_service_health_results_ref_at", "ref", "at"),
    sa.Index("ix_service_health_results_at", "at"),
)

checks = sa.Table(
    "service_checks",
    metadata,
    sa.Column("ref", sa.String(600), primary_key=True),
    sa.Column("namespace", sa.String(63), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("since", sa.Float(), nullable=False),
    sa.Column("checked_at", sa.Float(), nullable=False),
    sa.Column("latency_ms", sa.Float(), nullable=False),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("worker", sa.String(100), nullable=False),
)

leases = sa.Table(
    "service_leases",
    metadata,
    sa.Column("ref", sa.String(600), primary_key=True),
    sa.Column("owner", sa.String(100), nullable=True),
    sa.Column("expires_at", sa.Float(), nullable=False),
    sa.Column("ttl", sa.Float(), nullable=False),
    sa.Index("ix_service_leases_owner", "owner"),
    sa.Index("ix_service_leases_expires", "expires_at"),
)

workers = sa.Table(
    "service_workers",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("started_at", sa.Float(), nullable=False),
    sa.Column("seen_at", sa.Float(), nullable=False),
)
