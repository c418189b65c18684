"""Aliases (``champion``, ``staging``, ...): move one, and read where each pointed over time.

Moving an alias is ``Registry.set_alias`` (one change-log row per move, with the
version it left); the history is read back from those rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from hyper_registry.core.ref import Ref
from hyper_registry.store.schema import changes

if TYPE_CHECKING:
    from hyper_registry.core.registry import Registry

MAX_HISTORY = 1000


def move_alias(registry: Registry, ref: Ref | str, alias: str, *, actor: str) -> dict[str, Any]:
    """Point ``alias`` at the version ``ref`` names; returns the alias and its target."""
    entry = registry.set_alias(ref, alias, actor=actor)
    return {"alias": alias, "ref": str(entry.ref), "version": entry.metadata.version}


def alias_history(
    registry: Registry, ref: Ref | str, alias: str | None = None
) -> list[dict[str, Any]]:
    """Every move of the aliases of ``ref``'s name (or of one alias), oldest first."""
    r = registry.ref(ref).unversioned
    prefix = f"{r}@"
    stmt = (
        sa.select(changes.c.seq, changes.c.at, changes.c.actor, changes.c.ref, changes.c.detail)
        .where(changes.c.op == "alias")
        .where(changes.c.kind == r.kind)
        .where(changes.c.namespace == r.namespace)
        .order_by(changes.c.seq)
        .limit(MAX_HISTORY)
    )
    stmt = stmt.where(
        changes.c.ref == prefix + alias
        if alias is not None
        else changes.c.ref.like(prefix.replace("_", r"\_").replace("%", r"\%") + "%", escape="\\")
    )
    out: list[dict[str, Any]] = []
    with registry.store.engine.connect() as conn:
        for row in conn.execute(stmt):
            detail = orjson.loads(row.detail) if row.detail else {}
            out.append(
                {
                    "seq": row.seq,
                    "at": row.at,
                    "actor": row.actor,
                    "alias": detail.get("alias", row.ref[len(prefix) :]),
                    "to": detail.get("to"),
                    "from": detail.get("from"),
                }
            )
    return out


def aliases_with_history(registry: Registry, ref: Ref | str) -> dict[str, Any]:
    r = registry.ref(ref).unversioned
    return {
        "ref": str(r),
        "aliases": registry.aliases(r),
        "history": alias_history(registry, r),
    }
