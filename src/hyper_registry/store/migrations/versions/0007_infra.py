"""Tables of the infra domain (IaC templates: push, parse, cost, diff).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: the infra domain adds its tables here."""


def downgrade() -> None:
    """Nothing to undo yet."""
