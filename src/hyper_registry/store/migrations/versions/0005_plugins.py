"""Tables of the plugins domain (WASM plugins: push, inspect, run sandboxed).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: the plugins domain adds its tables here."""


def downgrade() -> None:
    """Nothing to undo yet."""
