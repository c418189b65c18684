"""Table definitions used by the SQL store's queries.

The schema itself is only ever created by the Alembic migrations in
``hyper_registry/store/migrations``; a test checks that a migrated database
matches these definitions exactly.

JSON documents are stored as text serialised once by the write pipeline (the
same text on SQLite and PostgreSQL); spec fields are queried with the dialect's
JSON functions.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# A 64-bit integer key on PostgreSQL that is SQLite's rowid alias on SQLite.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Version keys compare byte by byte: PostgreSQL's default collation may ignore punctuation.
VersionKey = sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql")

entries = sa.Table(
    "entries",
    metadata,
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
    sa.Index("ix_entries_name_key", "kind", "namespace", "name", "version_key"),
    sa.Index("ix_entries_namespace", "namespace", "kind"),
    sa.Index("ix_entries_owner", "owner"),
)


def _unpinned_name_index(side: str) -> sa.Index:
    """The name index of one end of ``relations``, over the ends that are not pinned."""
    where = sa.text(f"NOT {side}_pinned")
    return sa.Index(
        f"ix_relations_{side}_name",
        f"{side}_name",
        f"{side}_ns",
        f"{side}_kind",
        sqlite_where=where,
        postgresql_where=where,
    )


relations = sa.Table(
    "relations",
    metadata,
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
    # An end is pinned when its id was found by its exact version: only a deletion of
    # that entry can move it (found through the id indexes). Every other end (dangling,
    # latest, an alias) moves with its name, so only those are indexed by name.
    sa.Column("src_pinned", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("dst_pinned", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Index("ix_relations_owner", "owner_id"),
    sa.Index("ix_relations_src_id", "src_id"),
    sa.Index("ix_relations_dst_id", "dst_id"),
    *(_unpinned_name_index(side) for side in ("src", "dst")),
)

aliases = sa.Table(
    "aliases",
    metadata,
    sa.Column("kind", sa.String(63), primary_key=True),
    sa.Column("namespace", sa.String(63), primary_key=True),
    sa.Column("name", sa.String(253), primary_key=True),
    sa.Column("alias", sa.String(128), primary_key=True),
    sa.Column("version", sa.String(128), nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(253), nullable=False),
)

changes = sa.Table(
    "changes",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(253), nullable=False),
    sa.Column("op", sa.String(32), nullable=False),
    sa.Column("ref", sa.String(600), nullable=False),
    sa.Column("kind", sa.String(63), nullable=False),
    sa.Column("namespace", sa.String(63), nullable=False),
    sa.Column("uid", sa.String(36), nullable=True),
    sa.Column("revision", sa.Integer(), nullable=True),
    sa.Column("detail", sa.Text(), nullable=True),
    sa.Index("ix_changes_namespace", "namespace", "seq"),
)

idempotency = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.String(80), nullable=False),
    sa.Column("response", sa.Text(), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("secret_hash", sa.String(80), nullable=False),
    sa.Column("name", sa.String(253), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("namespaces", sa.Text(), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("created_by", sa.String(253), nullable=False),
    sa.Column("revoked_at", sa.String(32), nullable=True),
)
