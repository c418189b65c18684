"""Relation ends pinned to an exact version leave the name indexes.

A relation end whose id was found by its exact version (``kind:ns/name@version``) can
only move when that entry is deleted, and deletions find the rows through the id
indexes. Only the other ends (dangling, latest, alias) are looked up by name when an
entry name gains or loses versions or aliases, so the name indexes become partial
indexes over those rows: fewer random index pages written per relation.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SIDES = ("src", "dst")


def upgrade() -> None:
    for side in SIDES:
        op.add_column(
            "relations",
            sa.Column(f"{side}_pinned", sa.Boolean(), nullable=False, server_default=sa.false()),
        )
        # Pinned: the stored id is the entry the exact version names.
        op.execute(
            f"UPDATE relations SET {side}_pinned = COALESCE("
            f"{side}_id = (SELECT e.id FROM entries e WHERE e.ref_key = relations.{side}_kind "
            f"|| ':' || relations.{side}_ns || '/' || relations.{side}_name || '@' "
            f"|| relations.{side}_ver), false) "
            f"WHERE {side}_id IS NOT NULL AND {side}_ver <> ''"
        )
        op.drop_index(f"ix_relations_{side}_name", table_name="relations")
        op.create_index(
            f"ix_relations_{side}_name",
            "relations",
            [f"{side}_name", f"{side}_ns", f"{side}_kind"],
            sqlite_where=sa.text(f"NOT {side}_pinned"),
            postgresql_where=sa.text(f"NOT {side}_pinned"),
        )


def downgrade() -> None:
    for side in SIDES:
        op.drop_index(f"ix_relations_{side}_name", table_name="relations")
        op.create_index(
            f"ix_relations_{side}_name", "relations", [f"{side}_name", f"{side}_ns", f"{side}_kind"]
        )
        with op.batch_alter_table("relations") as batch:
            batch.drop_column(f"{side}_pinned")
