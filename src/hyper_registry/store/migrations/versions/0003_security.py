"""Tables of the security domain (SBOMs, advisories, findings, VEX and vulnerability impact).

Also widens ``changes.op`` to 32 characters so that domain events such as
``security.critical`` fit.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

TABLES = (
    "security_sboms",
    "security_components",
    "security_dependencies",
    "security_advisories",
    "security_advisory_aliases",
    "security_affected",
    "security_findings",
    "security_finding_history",
    "security_vex",
)


def upgrade() -> None:
    with op.batch_alter_table("changes") as batch:
        batch.alter_column(
            "op", existing_type=sa.String(16), type_=sa.String(32), existing_nullable=False
        )
    op.create_table(
        "security_sboms",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("entry_uid", sa.String(36), nullable=False),
        sa.Column("ref", sa.String(600), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("namespace", sa.String(63), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("spec_version", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(80), nullable=False),
        sa.Column("described", sa.Text(), nullable=True),
        sa.Column("linked_ref", sa.String(600), nullable=True),
        sa.Column("component_count", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("entry_uid", name="uq_security_sboms_entry"),
    )
    op.create_index("ix_security_sboms_namespace", "security_sboms", ["namespace"])
    op.create_index("ix_security_sboms_linked", "security_sboms", ["linked_ref"])
    op.create_table(
        "security_components",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("sbom_id", BigId, nullable=False),
        sa.Column("key", sa.String(1024), nullable=False),
        sa.Column("name", sa.String(1024), nullable=False),
        sa.Column("version", sa.String(256), nullable=True),
        sa.Column("purl", sa.String(2048), nullable=True),
        sa.Column("purl_type", sa.String(64), nullable=True),
        sa.Column("purl_namespace", sa.String(1024), nullable=True),
        sa.Column("purl_name", sa.String(1024), nullable=True),
        sa.Column("ecosystem", sa.String(64), nullable=True),
        sa.Column("package", sa.String(1024), nullable=True),
        sa.Column("cpe", sa.String(1024), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("matchable", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_security_components_sbom", "security_components", ["sbom_id"])
    op.create_index(
        "ix_security_components_purl",
        "security_components",
        ["purl_type", "purl_namespace", "purl_name"],
    )
    op.create_index(
        "ix_security_components_package", "security_components", ["ecosystem", "package"]
    )
    op.create_table(
        "security_dependencies",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("sbom_id", BigId, nullable=False),
        sa.Column("source", sa.String(1024), nullable=False),
        sa.Column("target", sa.String(1024), nullable=False),
        sa.Column("relationship", sa.String(64), nullable=False),
    )
    op.create_index("ix_security_dependencies_sbom", "security_dependencies", ["sbom_id"])
    op.create_table(
        "security_advisories",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("entry_uid", sa.String(36), nullable=False),
        sa.Column("ref", sa.String(600), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("namespace", sa.String(63), nullable=False),
        sa.Column("name", sa.String(253), nullable=False),
        sa.Column("advisory_id", sa.String(128), nullable=False),
        sa.Column("sbom_id", BigId, nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("withdrawn", sa.String(40), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("namespace", "name", name="uq_security_advisories_name"),
    )
    op.create_index("ix_security_advisories_entry", "security_advisories", ["entry_uid"])
    op.create_table(
        "security_advisory_aliases",
        sa.Column("advisory_pk", BigId, primary_key=True),
        sa.Column("alias_key", sa.String(400), primary_key=True),
    )
    op.create_index("ix_security_advisory_aliases_key", "security_advisory_aliases", ["alias_key"])
    op.create_table(
        "security_affected",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("advisory_pk", BigId, nullable=False),
        sa.Column("ecosystem", sa.String(64), nullable=False),
        sa.Column("package", sa.String(1024), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_index("ix_security_affected_advisory", "security_affected", ["advisory_pk"])
    op.create_index("ix_security_affected_package", "security_affected", ["ecosystem", "package"])
    op.create_table(
        "security_findings",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("component_id", BigId, nullable=False),
        sa.Column("advisory_pk", BigId, nullable=False),
        sa.Column("sbom_id", BigId, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("matched_range", sa.String(1024), nullable=True),
        sa.Column("fixed_version", sa.String(256), nullable=True),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("component_id", "advisory_pk", name="uq_security_findings_pair"),
    )
    op.create_index("ix_security_findings_sbom", "security_findings", ["sbom_id"])
    op.create_index("ix_security_findings_advisory", "security_findings", ["advisory_pk"])
    op.create_table(
        "security_finding_history",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("finding_id", BigId, nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("actor", sa.String(253), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("justification", sa.String(256), nullable=True),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("source", sa.String(600), nullable=False),
    )
    op.create_index(
        "ix_security_finding_history_finding", "security_finding_history", ["finding_id"]
    )
    op.create_table(
        "security_vex",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("vuln_key", sa.String(400), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("target", sa.String(2048), nullable=False),
        sa.Column("sbom_id", BigId, nullable=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("justification", sa.String(256), nullable=True),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(253), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("source", sa.String(600), nullable=False),
        sa.Column("entry_uid", sa.String(36), nullable=True),
    )
    op.create_index("ix_security_vex_key", "security_vex", ["vuln_key"])
    op.create_index("ix_security_vex_entry", "security_vex", ["entry_uid"])


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
    with op.batch_alter_table("changes") as batch:
        batch.alter_column(
            "op", existing_type=sa.String(32), type_=sa.String(16), existing_nullable=False
        )
