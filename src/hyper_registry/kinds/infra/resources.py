"""The ``infra_resources`` table: every template's resources by type and provider.

One row per resource of each registered infra version (``entry_uid`` keys it to the
entry), indexed by resource type and by provider, so "which templates create an
``aws_db_instance``" is one indexed query across templates. Rows are replaced whenever
the entry is registered or updated and deleted when it is unregistered. The table is
defined on the store's shared ``metadata`` (so the migration check covers it) and
created only by migration ``0007_infra``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from hyper_registry.kinds.infra.model import Resource
from hyper_registry.store.schema import BigId, metadata

infra_resources = sa.Table(
    "infra_resources",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("entry_uid", sa.String(36), nullable=False),
    sa.Column("namespace", sa.String(63), nullable=False),
    sa.Column("name", sa.String(253), nullable=False),
    sa.Column("version", sa.String(128), nullable=False),
    sa.Column("template_type", sa.String(32), nullable=False),
    sa.Column("address", sa.String(1000), nullable=False),
    sa.Column("resource_type", sa.String(255), nullable=False),
    sa.Column("provider", sa.String(63), nullable=False),
    sa.Column("count", sa.Integer(), nullable=True),
    sa.Index("ix_infra_resources_type", "resource_type", "namespace"),
    sa.Index("ix_infra_resources_provider", "provider", "namespace"),
    sa.Index("ix_infra_resources_entry", "entry_uid"),
)


@dataclass(frozen=True)
class ResourceHit:
    namespace: str
    name: str
    version: str
    address: str
    resource_type: str
    provider: str
    count: int | None


def replace(
    engine: sa.Engine,
    entry_uid: str,
    namespace: str,
    name: str,
    version: str,
    template_type: str,
    resources: Sequence[Resource],
) -> None:
    """The resources of one template version, replaced in a transaction of their own."""
    with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn, conn.begin():
        replace_in(conn, entry_uid, namespace, name, version, template_type, resources)


def replace_in(
    conn: sa.Connection,
    entry_uid: str,
    namespace: str,
    name: str,
    version: str,
    template_type: str,
    resources: Sequence[Resource],
) -> None:
    """``replace`` on the caller's connection, inside its transaction."""
    replace_many(conn, [(entry_uid, namespace, name, version, template_type, resources)])


Templates = Sequence[tuple[str, str, str, str, str, Sequence[Resource]]]
"""(entry uid, namespace, name, version, template type, resources) of each template."""


def replace_many(conn: sa.Connection, templates: Templates) -> None:
    """The resources of many template versions, replaced in two statements."""
    rows = [
        {
            "entry_uid": entry_uid,
            "namespace": namespace,
            "name": name,
            "version": version,
            "template_type": template_type,
            "address": r.address[:1000],
            "resource_type": r.type[:255],
            "provider": r.provider[:63],
            "count": r.count,
        }
        for entry_uid, namespace, name, version, template_type, resources in templates
        for r in resources
    ]
    uids = [t[0] for t in templates]
    for i in range(0, len(uids), 500):
        conn.execute(
            infra_resources.delete().where(infra_resources.c.entry_uid.in_(uids[i : i + 500]))
        )
    if rows:
        conn.execute(infra_resources.insert(), rows)


def remove(engine: sa.Engine, entry_uid: str) -> None:
    with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn, conn.begin():
        conn.execute(infra_resources.delete().where(infra_resources.c.entry_uid == entry_uid))


def find(
    engine: sa.Engine,
    *,
    resource_type: str | None = None,
    provider: str | None = None,
    namespaces: Sequence[str] | None = None,
    limit: int = 1000,
) -> list[ResourceHit]:
    """Resources of that type/provider across templates, in the namespaces given (None: all)."""
    t = infra_resources
    q = sa.select(
        t.c.namespace,
        t.c.name,
        t.c.version,
        t.c.address,
        t.c.resource_type,
        t.c.provider,
        t.c.count,
    )
    if resource_type is not None:
        q = q.where(t.c.resource_type == resource_type)
    if provider is not None:
        q = q.where(t.c.provider == provider)
    if namespaces is not None:
        q = q.where(t.c.namespace.in_(list(namespaces)))
    q = q.order_by(t.c.namespace, t.c.name, t.c.version, t.c.address).limit(limit)
    with engine.connect() as conn:
        return [ResourceHit(*row) for row in conn.execute(q)]
