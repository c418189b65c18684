"""Tables of the ingest domain (stream and bulk ingestion, dead letters, workers).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: the ingest domain adds its tables here."""


def downgrade() -> None:
    """Nothing to undo yet."""
