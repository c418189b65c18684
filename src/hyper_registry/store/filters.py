"""Translating a ``Query`` into SQL conditions, for SQLite and PostgreSQL alike."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

from hyper_registry.core.errors import Invalid
from hyper_registry.store.base import Query
from hyper_registry.store.schema import entries

_PATH_PART = re.compile(r"[A-Za-z0-9_-]{1,64}")


def json_text(dialect: str, *path: str) -> ColumnElement[Any]:
    """The text value at ``path`` inside the ``body`` JSON column."""
    if dialect == "postgresql":
        return sa.cast(entries.c.body, JSONB).op("#>>")(
            sa.cast(sa.literal(list(path), sa.ARRAY(sa.Text())), sa.ARRAY(sa.Text()))
        )
    quoted = sa.literal("$." + ".".join('"' + p.replace('"', "") + '"' for p in path))
    # json_extract gives 1/0 for JSON true/false; PostgreSQL's #>> gives 'true'/'false'.
    return sa.case(
        (sa.func.json_type(entries.c.body, quoted) == "true", sa.literal("true")),
        (sa.func.json_type(entries.c.body, quoted) == "false", sa.literal("false")),
        else_=sa.cast(sa.func.json_extract(entries.c.body, quoted), sa.Text),
    )


def _has_tag(dialect: str, tag: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        tags = sa.cast(entries.c.body, JSONB).op("->")("metadata").op("->")("tags")
        return sa.func.jsonb_exists(tags, tag)
    each = sa.func.json_each(entries.c.body, "$.metadata.tags").table_valued("value")
    return sa.exists().select_from(each).where(each.c.value == tag)


def _like(value: str) -> str:
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def build_filters(dialect: str, q: Query) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if q.kinds:
        conds.append(entries.c.kind.in_(list(q.kinds)))
    if q.namespace:
        conds.append(entries.c.namespace == q.namespace)
    if q.visible_namespaces is not None:
        conds.append(entries.c.namespace.in_(list(q.visible_namespaces)))
    if q.name:
        conds.append(entries.c.name == q.name)
    if q.owner:
        conds.append(entries.c.owner == q.owner)
    for key, value in q.labels.items():
        conds.append(json_text(dialect, "metadata", "labels", key) == value)
    for tag in q.tags:
        conds.append(_has_tag(dialect, tag))
    if q.text:
        pattern = _like(q.text)
        conds.append(
            sa.or_(
                sa.func.lower(entries.c.name).like(pattern, escape="\\"),
                sa.func.lower(entries.c.title).like(pattern, escape="\\"),
                sa.func.lower(json_text(dialect, "metadata", "description")).like(
                    pattern, escape="\\"
                ),
            )
        )
    for path, value in q.spec.items():
        parts = path.split(".")
        if not all(_PATH_PART.fullmatch(p) for p in parts):
            raise Invalid.at(
                ("spec", path), f"spec filter path {path!r} is not a dotted field path"
            )
        conds.append(json_text(dialect, "spec", *parts) == value)
    if not q.all_versions:
        newer = entries.alias("newer")
        conds.append(
            ~sa.exists().where(
                (newer.c.kind == entries.c.kind)
                & (newer.c.namespace == entries.c.namespace)
                & (newer.c.name == entries.c.name)
                & (newer.c.version_key > entries.c.version_key)
            )
        )
    return conds
