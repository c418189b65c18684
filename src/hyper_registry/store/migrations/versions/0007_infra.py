"""Tables of the infra domain: the resources of every IaC template, by type and provider.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "infra_resources",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("entry_uid", sa.String(36), nullable=False),
        sa.Column("namespace", sa.String(63), nullable=False),
        sa.Column("name", sa.String(253), nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("template_type", sa.String(32), nullable=False),
        sa.Column("address", sa.String(1000), nullable=False),
        sa.Column("resource_type", sa.String(255), nullable=False),
        sa.Column("provider", sa.String(63), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
    )
    op.create_index("ix_infra_resources_type", "infra_resources", ["resource_type", "namespace"])
    op.create_index("ix_infra_resources_provider", "infra_resources", ["provider", "namespace"])
    op.create_index("ix_infra_resources_entry", "infra_resources", ["entry_uid"])


def downgrade() -> None:
    op.drop_table("infra_resources")
