"""Tables of the ingest domain: event ids taken in, per-entry stream positions, dead letters.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ingest_events",
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
    )
    op.create_table(
        "ingest_positions",
        sa.Column("scope", sa.String(255), primary_key=True),
        sa.Column("ref_key", sa.String(600), primary_key=True),
        sa.Column("position", sa.String(64), nullable=False),
    )
    op.create_table(
        "ingest_dead_letters",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("position", sa.String(128), nullable=True),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("namespace", sa.String(63), nullable=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(253), nullable=False),
        sa.Column("replayed_at", sa.String(32), nullable=True),
    )
    op.create_index("ix_ingest_dead_letters_open", "ingest_dead_letters", ["replayed_at", "id"])
    op.create_index("ix_ingest_dead_letters_event", "ingest_dead_letters", ["event_id"])


def downgrade() -> None:
    op.drop_index("ix_ingest_dead_letters_event", table_name="ingest_dead_letters")
    op.drop_index("ix_ingest_dead_letters_open", table_name="ingest_dead_letters")
    op.drop_table("ingest_dead_letters")
    op.drop_table("ingest_positions")
    op.drop_table("ingest_events")
