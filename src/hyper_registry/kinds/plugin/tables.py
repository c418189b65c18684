"""The plugin domain's own table: uploaded module binaries, by content digest.

Defined on the store's shared ``metadata`` so the migration check covers it; created
only by migration 0005. Entries stay in ``entries``; a pushed plugin's document names
its module by ``module.digest`` and the bytes live here, in the database every API
replica shares (SQLite or PostgreSQL alike).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError

from hyper_registry.core.errors import Unavailable
from hyper_registry.core.ids import timestamp
from hyper_registry.store.schema import metadata

modules = sa.Table(
    "plugin_modules",
    metadata,
    sa.Column("digest", sa.String(80), primary_key=True),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("data", sa.LargeBinary(), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("created_by", sa.String(253), nullable=False),
)


class ModuleBlobs:
    """Put and get module binaries by digest (content-addressed: a put of known bytes is a no-op)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def put(self, digest: str, data: bytes, *, actor: str) -> bool:
        """Store ``data`` under ``digest``; False when it was there already."""
        try:
            with (
                self.engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn,
                conn.begin(),
            ):
                found = conn.execute(
                    sa.select(modules.c.digest).where(modules.c.digest == digest)
                ).first()
                if found is not None:
                    return False
                conn.execute(
                    modules.insert(),
                    {
                        "digest": digest,
                        "size": len(data),
                        "data": data,
                        "created_at": timestamp(),
                        "created_by": actor,
                    },
                )
                return True
        except IntegrityError:  # a concurrent upload of the same bytes won the race
            return False
        except OperationalError:
            raise Unavailable("the database is unavailable to store the module") from None

    def get(self, digest: str) -> bytes | None:
        try:
            with self.engine.connect() as conn:
                row = conn.execute(
                    sa.select(modules.c.data).where(modules.c.digest == digest)
                ).first()
        except OperationalError:
            raise Unavailable("the database is unavailable to read the module") from None
        return None if row is None else bytes(row[0])
