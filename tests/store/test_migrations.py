"""The migration chain makes exactly the schema the store's queries use, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from hyper_registry import Registry, Settings, Unavailable
from hyper_registry.store.catalog import full_metadata

MakeDoc = Callable[..., dict[str, Any]]


metadata = full_metadata()


def differences(engine: sa.Engine, target: sa.MetaData = metadata) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, target))


def alembic(engine: sa.Engine, action: Callable[[Config, str], None], revision: str) -> None:
    """Run an Alembic command on the registry's database the way the store runs upgrades."""
    with engine.connect() as conn:
        cfg = Config()
        cfg.set_main_option(
            "script_location", str(resources.files("hyper_registry.store") / "migrations")
        )
        cfg.attributes["connection"] = conn
        action(cfg, revision)
        conn.commit()


def test_migrated_database_matches_the_schema(registry: Registry) -> None:
    assert differences(registry.store.engine) == []


def test_the_comparison_sees_a_difference(registry: Registry) -> None:
    """The check above can fail: a column the migrations lack is reported."""
    changed = sa.MetaData()
    for table in metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["entries"].append_column(sa.Column("extra", sa.Text(), nullable=True))
    diffs = differences(registry.store.engine, changed)
    assert [d[0] for d in diffs] == ["add_column"]


def test_health_reports_migrations_current(registry: Registry) -> None:
    health = registry.store.health()
    assert health.reachable
    assert health.migrations_current
    assert health.revision is not None
    assert health.revision == health.head
    registry.ping()


def test_migrate_is_idempotent_and_keeps_data(registry: Registry, make_doc: MakeDoc) -> None:
    registry.register(make_doc("service:edge/gw@1.0.0"))
    registry.initialize()
    registry.store.migrate()
    assert registry.get("service:edge/gw@1.0.0").revision == 1
    assert differences(registry.store.engine) == []


def test_downgrade_then_upgrade_round_trips(registry: Registry) -> None:
    engine = registry.store.engine
    head = registry.store.health().head
    alembic(engine, command.downgrade, "base")
    health = registry.store.health()
    assert health.reachable
    assert not health.migrations_current
    assert health.revision is None
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    registry.store.migrate()
    assert registry.store.health().revision == head
    assert differences(engine) == []


def test_health_reports_a_database_behind_the_code(registry: Registry) -> None:
    engine = registry.store.engine
    alembic(engine, command.downgrade, "-1")
    health = registry.store.health()
    assert health.reachable
    assert not health.migrations_current
    assert health.revision is not None
    assert health.revision != health.head
    registry.store.migrate()
    assert registry.store.health().migrations_current


def test_unreachable_database(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, database_url="postgresql://someone:secret@127.0.0.1:1/nothing"
    )
    reg = Registry(settings)
    try:
        health = reg.store.health()
        assert not health.reachable
        assert not health.migrations_current
        assert health.detail
        assert "secret" not in health.detail
        with pytest.raises(Unavailable) as info:
            reg.initialize()
        assert "secret" not in str(info.value)
        with pytest.raises(Unavailable):
            reg.ping()
    finally:
        reg.close()


def test_sqlite_is_durable_by_default(sqlite_registry: Registry) -> None:
    data_dir = sqlite_registry.settings.data_dir
    assert (Path(data_dir) / "registry.db").exists()
    with sqlite_registry.store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_migration_0009_pins_the_ends_already_stored(registry: Registry, make_doc: MakeDoc) -> None:
    registry.register(make_doc("model:shop/det@1.0.0"))
    registry.register(
        make_doc(
            "service:edge/gw@1.0.0",
            relations=[
                ("uses", "model:shop/det@1.0.0"),  # an exact stored version: pinned
                ("uses", "model:shop/det"),  # the latest: never pinned
                ("uses", "model:shop/gone@1.0.0"),  # dangling
            ],
        )
    )

    def flags() -> list[tuple[bool, bool]]:
        with registry.store.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT src_pinned, dst_pinned FROM relations ORDER BY id"
            ).all()
        return [(bool(s), bool(d)) for s, d in rows]

    before = flags()
    assert before == [(True, True), (True, False), (True, False)]
    alembic(registry.store.engine, command.downgrade, "0008")
    alembic(registry.store.engine, command.upgrade, "head")
    assert flags() == before
