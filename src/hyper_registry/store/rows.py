"""Rows of the entries table as registry entries, shared by the store's reads and writes."""

from __future__ import annotations

from typing import Any

import orjson

from hyper_registry.core.envelope import Entry
from hyper_registry.store.schema import entries

CHUNK = 500
ENTRY_COLS = (
    entries.c.id,
    entries.c.uid,
    entries.c.kind,
    entries.c.body,
    entries.c.status,
    entries.c.revision,
    entries.c.content_hash,
    entries.c.created_at,
    entries.c.updated_at,
)


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def row_to_entry(row: Any) -> Entry:
    body = orjson.loads(row.body)
    md = body["metadata"]
    md["uid"] = row.uid
    md["revision"] = row.revision
    md["createdAt"] = row.created_at
    md["updatedAt"] = row.updated_at
    md["contentHash"] = row.content_hash
    body["status"] = orjson.loads(row.status) if row.status else {}
    body.pop("apiVersion", None)
    return Entry.model_validate(body)
