"""Engines for SQLite (durable WAL) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from hyper_registry.core.settings import Settings


def normalise_url(url: str) -> str:
    """Point bare PostgreSQL URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(settings: Settings, *, background_checkpoint: bool = False) -> sa.Engine:
    """An engine for the settings' database. ``background_checkpoint`` (SQLite): commits do
    not checkpoint the log; the caller runs a :class:`~hyper_registry.store.checkpoint.Checkpointer`.
    """
    url = normalise_url(settings.effective_database_url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, settings.sqlite_synchronous, background_checkpoint)
    return sa.create_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 10},
    )


def _sqlite_engine(url: str, synchronous: str, background_checkpoint: bool) -> sa.Engine:
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=8,
        max_overflow=8,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Transactions are begun explicitly below, so pysqlite must not begin its own.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.execute("PRAGMA cache_size=-65536")
        if background_checkpoint:
            cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # Writers take the write lock when they begin (BEGIN IMMEDIATE), so two writers
        # never deadlock upgrading a read lock; readers begin deferred and never block.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine
