"""Migration 0006 creates exactly the services tables ``tables.py`` describes (both backends)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from hyper_registry import Registry
from hyper_registry.kinds.service.tables import metadata

OURS = set(metadata.tables)


def _table_of(diff: Any) -> str | None:
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:]:
        name = getattr(part, "name", None)
        table = getattr(part, "table", None)
        if isinstance(part, sa.Table):
            return str(name)
        if table is not None:
            return str(table.name)
        if isinstance(part, str) and part in OURS:
            return part
    return None


def test_migrated_tables_match(registry: Registry) -> None:
    with registry.store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        diffs = list(compare_metadata(context, metadata))
    ours = [d for d in diffs if _table_of(d) in OURS]
    assert ours == []
    assert set(sa.inspect(registry.store.engine).get_table_names()) >= OURS
    indexes = {
        ix["name"] for ix in sa.inspect(registry.store.engine).get_indexes("service_health_results")
    }
    assert indexes == {"ix_service_health_results_ref_at", "ix_service_health_results_at"}


def test_the_comparison_sees_a_difference(registry: Registry) -> None:
    changed = sa.MetaData()
    for table in metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["service_checks"].append_column(sa.Column("extra", sa.Text(), nullable=True))
    with registry.store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, changed) if _table_of(d) in OURS]
    assert [d[0] for d in diffs] == ["add_column"]
