"""Migration 0008 makes exactly the tables ``ingest/tables.py`` describes, on both backends."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from hyper_registry import Registry
from hyper_registry.ingest.tables import metadata


def test_migrated_ingest_tables_match_their_definitions(registry: Registry) -> None:
    def ours(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        table_name = name if type_ == "table" else getattr(table, "name", "")
        return bool(table_name and str(table_name).startswith("ingest_"))

    with registry.store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"compare_type": True, "compare_server_default": True, "include_object": ours},
        )
        assert compare_metadata(context, metadata) == []
    assert set(metadata.tables) == {"ingest_events", "ingest_positions", "ingest_dead_letters"}
