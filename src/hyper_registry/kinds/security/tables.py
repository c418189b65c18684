"""The security index's own tables: SBOMs, components, advisories, findings, VEX, history.

Defined on the store's shared ``metadata`` so that the migration check (a migrated
database equals the declared schema) covers them; created only by migration 0003.
Entries stay in ``entries`` (written by the pipeline); these rows are derived from them.
"""

from __future__ import annotations

import sqlalchemy as sa

from hyper_registry.store.schema import BigId, metadata

sboms = sa.Table(
    "security_sboms",
    metadata,
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
    sa.Index("ix_security_sboms_namespace", "namespace"),
    sa.Index("ix_security_sboms_linked", "linked_ref"),
)

components = sa.Table(
    "security_components",
    metadata,
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
    sa.Index("ix_security_components_sbom", "sbom_id"),
    sa.Index("ix_security_components_purl", "purl_type", "purl_namespace", "purl_name"),
    sa.Index("ix_security_components_package", "ecosystem", "package"),
)

dependencies = sa.Table(
    "security_dependencies",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("sbom_id", BigId, nullable=False),
    sa.Column("source", sa.String(1024), nullable=False),
    sa.Column("target", sa.String(1024), nullable=False),
    sa.Column("relationship", sa.String(64), nullable=False),
    sa.Index("ix_security_dependencies_sbom", "sbom_id"),
)

advisories = sa.Table(
    "security_advisories",
    metadata,
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
    sa.Index("ix_security_advisories_entry", "entry_uid"),
)

advisory_aliases = sa.Table(
    "security_advisory_aliases",
    metadata,
    sa.Column("advisory_pk", BigId, primary_key=True),
    sa.Column("alias_key", sa.String(400), primary_key=True),
    sa.Index("ix_security_advisory_aliases_key", "alias_key"),
)

affected = sa.Table(
    "security_affected",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("advisory_pk", BigId, nullable=False),
    sa.Column("ecosystem", sa.String(64), nullable=False),
    sa.Column("package", sa.String(1024), nullable=False),
    sa.Column("data", sa.Text(), nullable=False),
    sa.Index("ix_security_affected_advisory", "advisory_pk"),
    sa.Index("ix_security_affected_package", "ecosystem", "package"),
)

findings = sa.Table(
    "security_findings",
    metadata,
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
    sa.Index("ix_security_findings_sbom", "sbom_id"),
    sa.Index("ix_security_findings_advisory", "advisory_pk"),
)

finding_history = sa.Table(
    "security_finding_history",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("finding_id", BigId, nullable=False),
    sa.Column("state", sa.String(24), nullable=False),
    sa.Column("actor", sa.String(253), nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("justification", sa.String(256), nullable=True),
    sa.Column("statement", sa.Text(), nullable=True),
    sa.Column("source", sa.String(600), nullable=False),
    sa.Index("ix_security_finding_history_finding", "finding_id"),
)

vex_statements = sa.Table(
    "security_vex",
    metadata,
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
    sa.Index("ix_security_vex_key", "vuln_key"),
    sa.Index("ix_security_vex_entry", "entry_uid"),
)

ALL_TABLES = (
    sboms,
    components,
    dependencies,
    advisories,
    advisory_aliases,
    affected,
    findings,
    finding_history,
    vex_statements,
)
