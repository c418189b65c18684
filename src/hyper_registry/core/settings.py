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
    otel: bool = Field(
        default=False,
        description="OpenTelemetry spans, metrics and logs of HTTP requests (FastAPI's native "
        "telemetry, through the globally configured providers); off: no per-request check",
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
    writer_socket: str | None = Field(
        default=None,
        description="SQLite: hand group commits to the writer process listening on this "
        "Unix socket (set by `serve --workers N` for its workers)",
    )
    pool_size: int = Field(default=8, ge=1, le=256, description="PostgreSQL connection pool size")
    max_model_file_bytes: int = Field(
        default=512 * 1024 * 1024, ge=1024, description="largest model file upload (docs/ml.md)"
    )
    # Stream and bulk ingestion (docs/ingest.md).
    ingest_batch_size: int = Field(
        default=5000, ge=1, le=100_000, description="messages per ingest transaction"
    )
    ingest_batch_wait: float = Field(
        default=0.2, gt=0, le=60, description="seconds a partial ingest batch waits for more"
    )
    ingest_max_message_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="largest single ingest message or line"
    )
    # Service health checks (docs/services.md).
    checker_enabled: bool = Field(
        default=True, description="run the health checker inside `hyper-registry serve`"
    )
    checker_concurrency: int = Field(
        default=200, ge=1, le=10_000, description="health checks in flight at once per checker"
    )
    checker_allow_loopback: bool = Field(
        default=False, description="let health checks reach loopback addresses (127.0.0.0/8, ::1)"
    )
    checker_allow_private: bool = Field(
        default=True,
        description="let health checks reach private addresses (10/8, 172.16/12, 192.168/16, fc00::/7)",
    )
    checker_retention_days: float = Field(
        default=30.0, gt=0, le=3650, description="days of health check results kept"
    )
    checker_tick_seconds: float = Field(
        default=1.0, gt=0, le=60, description="how often a checker syncs services and leases"
    )
    checker_test_interval: float | None = Field(
        default=None,
        gt=0,
        description="TEST ONLY: check every service at this many seconds, below the 5 s minimum",
    )
    # WASM plugins (docs/plugins.md).
    plugin_max_module_bytes: int = Field(
        default=8 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024, description="largest plugin module"
    )
    plugin_trust_unsandboxed: bool = Field(
        default=False, description="run plugins whose sandboxing is `none` (refused otherwise)"
    )
    plugin_cache_dir: Path | None = Field(
        default=None, description="compiled-module cache; empty means data_dir/plugin-cache"
    )
    plugin_env_allowlist: list[str] = Field(
        default_factory=list, description="server environment variables a plugin with `env` sees"
    )
    plugin_strict_fuel: int = Field(default=500_000_000, ge=1, description="fuel of a strict run")
    plugin_strict_memory_bytes: int = Field(default=64 * 1024 * 1024, ge=65536)
    plugin_strict_timeout: float = Field(default=5.0, gt=0, le=3600, description="seconds")
    plugin_relaxed_fuel: int = Field(default=20_000_000_000, ge=1)
    plugin_relaxed_memory_bytes: int = Field(default=1024 * 1024 * 1024, ge=65536)
    plugin_relaxed_timeout: float = Field(default=60.0, gt=0, le=3600, description="seconds")
    plugin_unsandboxed_timeout: float = Field(
        default=600.0, gt=0, le=86400, description="seconds; the only limit of a `none` run"
    )
    plugin_output_bytes: int = Field(
        default=64 * 1024, ge=0, le=16 * 1024 * 1024, description="stdout/stderr kept per run"
    )

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
