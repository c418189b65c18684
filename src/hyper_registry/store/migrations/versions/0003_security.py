"""Tables of the security domain (SBOMs, advisories, findings, VEX and vulnerability impact).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: the security domain adds its tables here."""


def downgrade() -> None:
    """Nothing to undo yet."""
