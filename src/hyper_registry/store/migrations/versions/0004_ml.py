"""Tables of the ml domain (models and datasets: lineage, comparison, schema evolution, quality, OpenLineage).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: the ml domain adds its tables here."""


def downgrade() -> None:
    """Nothing to undo yet."""
