"""Every table the migration chain creates: the core schema and each domain's own tables.

Domains keep their table definitions beside their code (``kinds/<kind>/tables.py``,
``ingest/tables.py``); this catalogue gathers them into one ``MetaData`` so a test can
check that the migrations make exactly these tables, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from importlib import import_module

import sqlalchemy as sa

from hyper_registry.store import schema

DOMAIN_TABLES = (
    "hyper_registry.kinds.security.tables",
    "hyper_registry.kinds.dataset.tables",
    "hyper_registry.kinds.plugin.tables",
    "hyper_registry.kinds.service.tables",
    "hyper_registry.kinds.infra.resources",
    "hyper_registry.ingest.tables",
)
"""Modules defining a ``metadata`` with their domain's tables (imported on demand)."""


def full_metadata() -> sa.MetaData:
    """A new ``MetaData`` holding a copy of every table the migrations create."""
    domains = [import_module(name) for name in DOMAIN_TABLES]
    combined = sa.MetaData()
    for source in (schema.metadata, *(module.metadata for module in domains)):
        for table in source.tables.values():
            if table.name not in combined.tables:
                table.to_metadata(combined)
    return combined
