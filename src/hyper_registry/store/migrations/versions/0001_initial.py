"""Initial schema: entries, relations, aliases, the change log and idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Version keys compare byte by byte: PostgreSQL's default collation may ignore punctuation.
VersionKey = sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "entries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("ref_key", sa.String(600), nullable=False),
        sa.Column("kind", sa.String(63), nullable=False),
        sa.Column("namespace", sa.String(63), nullable=False),
        sa.Column("name", sa.String(253), nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("version_key", VersionKey, nullable=False),
        sa.Column("owner", sa.String(253), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(80), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("ref_key", name="uq_entries_ref_key"),
        sa.UniqueConstraint("uid", name="uq_entries_uid"),
    )
    op.create_index("ix_entries_name_key", "entries", ["kind", "namespace", "name", "version_key"])
    op.create_index("ix_entries_namespace", "entries", ["namespace", "kind"])
    op.create_index("ix_entries_owner", "entries", ["owner"])

    op.create_table(
        "relations",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("owner_id", BigId, nullable=False),
        sa.Column("declared", sa.String(32), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("impact_fwd", sa.Boolean(), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("src_kind", sa.String(63), nullable=False),
        sa.Column("src_ns", sa.String(63), nullable=False),
        sa.Column("src_name", sa.String(253), nullable=False),
        sa.Column("src_ver", sa.String(128), nullable=False),
        sa.Column("src_id", BigId, nullable=True),
        sa.Column("dst_kind", sa.String(63), nullable=False),
        sa.Column("dst_ns", sa.String(63), nullable=False),
        sa.Column("dst_name", sa.String(253), nullable=False),
        sa.Column("dst_ver", sa.String(128), nullable=False),
        sa.Column("dst_id", BigId, nullable=True),
    )
    op.create_index("ix_relations_owner", "relations", ["owner_id"])
    op.create_index("ix_relations_src_id", "relations", ["src_id"])
    op.create_index("ix_relations_dst_id", "relations", ["dst_id"])
    op.create_index("ix_relations_src_name", "relations", ["src_name", "src_ns", "src_kind"])
    op.create_index("ix_relations_dst_name", "relations", ["dst_name", "dst_ns", "dst_kind"])

    op.create_table(
        "aliases",
        sa.Column("kind", sa.String(63), primary_key=True),
        sa.Column("namespace", sa.String(63), primary_key=True),
        sa.Column("name", sa.String(253), primary_key=True),
        sa.Column("alias", sa.String(128), primary_key=True),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(253), nullable=False),
    )

    op.create_table(
        "changes",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(253), nullable=False),
        sa.Column("op", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(600), nullable=False),
        sa.Column("kind", sa.String(63), nullable=False),
        sa.Column("namespace", sa.String(63), nullable=False),
        sa.Column("uid", sa.String(36), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
    )
    op.create_index("ix_changes_namespace", "changes", ["namespace", "seq"])

    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("request_hash", sa.String(80), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_index("ix_changes_namespace", table_name="changes")
    op.drop_table("changes")
    op.drop_table("aliases")
    for name in (
        "ix_relations_dst_name",
        "ix_relations_src_name",
        "ix_relations_dst_id",
        "ix_relations_src_id",
        "ix_relations_owner",
    ):
        op.drop_index(name, table_name="relations")
    op.drop_table("relations")
    for name in ("ix_entries_owner", "ix_entries_namespace", "ix_entries_name_key"):
        op.drop_index(name, table_name="entries")
    op.drop_table("entries")
