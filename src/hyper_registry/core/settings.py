"""Settings: one object, read from the environment (``HYPER_REGISTRY_*``) or given in code."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/hyper-registry`` or ``~/.local/share/hyper-registry``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "hyper-registry"


class Settings(BaseSettings):
    """Everything a Registry needs to start. Each field is ``HYPER_REGISTRY_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="HYPER_REGISTRY_", extra="ignore")

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="where the SQLite database, blobs and the admin token live",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; empty means SQLite in data_dir (postgresql+psycopg://... for PostgreSQL)",
    )
    batch_size: int = Field(
        default=1000, ge=1, le=100_000, description="documents per transaction in bulk writes"
    )
    prepare_workers: int = Field(
        default_factory=lambda: max(0, min(2, (os.cpu_count() or 1) - 1)),
        ge=0,
        le=64,
        description="worker processes validating large bulk writes beside the committing "
        "one (0: validate in the calling process)",
    )
    parallel_prepare_min: int = Field(
        default=20_000,
        ge=0,
        description="bulk writes of at least this many documents use the prepare workers "
        "(0: never)",
    )
    max_document_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024, description="largest single document"
    )
    max_graph_depth: int = Field(
        default=20, ge=1, le=100, description="deepest graph traversal allowed"
    )
    default_graph_depth: int = Field(default=10, ge=1, le=100)
    max_page_size: int = Field(default=500, ge=1, le=10_000)
    max_bulk_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024, description="largest bulk request body (POST /v1/apply)"
    )
    sqlite_synchronous: str = Field(
        default="FULL", description="FULL (durable, the default) or NORMAL"
    )
    group_commit: bool = Field(
        default=True, description="let concurrent single writes share one durable commit"
    )
    pool_size: int = Field(default=8, ge=1, le=256, description="PostgreSQL connection pool size")

    @field_validator("sqlite_synchronous")
    @classmethod
    def _sync(cls, value: str) -> str:
        value = value.upper()
        if value not in {"FULL", "NORMAL", "EXTRA"}:
            raise ValueError("sqlite_synchronous must be FULL, EXTRA or NORMAL")
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'registry.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")
