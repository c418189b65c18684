"""The ml tables the code uses (``kinds/dataset/tables.py``) are the ones migration 0004 creates."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hyper_registry import Registry
from hyper_registry.kinds.dataset.tables import metadata


def _table_of(diff: Any) -> str | None:
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:]:
        name = getattr(part, "name", None) if isinstance(part, sa.Table) else None
        table = getattr(part, "table", None)
        if name:
            return str(name)
        if table is not None:
            return str(table.name)
        if isinstance(part, str) and part.startswith("ml_"):
            return part
    return None


def ml_differences(engine: sa.Engine, target: sa.MetaData) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        diffs = compare_metadata(context, target)
    return [d for d in diffs if (_table_of(d) or "").startswith("ml_")]


def test_migration_matches_the_table_definitions(registry: Registry) -> None:
    assert ml_differences(registry.store.engine, metadata) == []


def test_the_comparison_can_fail(registry: Registry) -> None:
    changed = sa.MetaData()
    for table in metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["ml_runs"].append_column(sa.Column("extra", sa.Text(), nullable=True))
    assert [d[0] for d in ml_differences(registry.store.engine, changed)] == ["add_column"]
