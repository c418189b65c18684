"""Tables of the services domain (service health checks, SLA availability and topology).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: the services domain adds its tables here."""


def downgrade() -> None:
    """Nothing to undo yet."""
