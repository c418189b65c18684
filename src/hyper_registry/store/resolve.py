"""Keeping relation endpoints resolved to entry ids.

A relation names its ends by reference (``kind:ns/name``, ``@version``, ``@alias`` or
latest). The ids those references point at are stored beside them (``src_id``,
``dst_id``) so a graph traversal is a chain of index lookups. They are recomputed,
set-wise and inside the writing transaction, for the relations a write can move:
new relation rows, and rows naming an entry name whose versions or aliases changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

CHUNK = 400


def _resolution(side: str) -> str:
    # The entry a reference on one side of a relation points at: an exact version
    # first, then an alias of that name, then (for an empty version) the latest one.
    r = f"relations.{side}"
    return f"""COALESCE(
        (SELECT e.id FROM entries e
          WHERE e.ref_key = {r}_kind || ':' || {r}_ns || '/' || {r}_name || '@' || {r}_ver),
        (SELECT e.id FROM aliases a JOIN entries e
             ON e.kind = a.kind AND e.namespace = a.namespace AND e.name = a.name
            AND e.version = a.version
          WHERE a.kind = {r}_kind AND a.namespace = {r}_ns AND a.name = {r}_name
            AND a.alias = {r}_ver),
        (SELECT e.id FROM entries e
          WHERE {r}_ver = '' AND e.kind = {r}_kind AND e.namespace = {r}_ns
            AND e.name = {r}_name
          ORDER BY e.version_key DESC LIMIT 1))"""


_NEW_ROWS = {
    side: sa.text(
        f"UPDATE relations SET {side}_id = {_resolution(side)} "
        f"WHERE id >= :first AND {side}_id IS NULL"
    )
    for side in ("src", "dst")
}

_BY_NAME = {
    side: sa.text(
        f"UPDATE relations SET {side}_id = {_resolution(side)} "
        f"WHERE {side}_name IN :names "
        f"AND ({side}_id IS NULL OR {side}_ver = '' OR {side}_id IN :gone OR {side}_ver IN :moved)"
    ).bindparams(
        sa.bindparam("names", expanding=True),
        sa.bindparam("gone", expanding=True),
        sa.bindparam("moved", expanding=True),
    )
    for side in ("src", "dst")
}


def _raw(conn: sa.Connection) -> Any:
    # SQLite runs these through the DBAPI cursor (see writer.raw_cursor): same SQL text.
    return conn.connection.driver_connection.cursor()  # type: ignore[union-attr]


def resolve_new_rows(conn: sa.Connection, first_id: int) -> None:
    """Resolve the unresolved ends of relation rows inserted from ``first_id`` on."""
    if conn.dialect.name == "sqlite":
        cur = _raw(conn)
        for side in ("src", "dst"):
            cur.execute(_NEW_ROWS[side].text, {"first": first_id})
        return
    for side in ("src", "dst"):
        conn.execute(_NEW_ROWS[side], {"first": first_id})


def resolve_names(
    conn: sa.Connection,
    names: Iterable[str],
    *,
    gone_ids: Sequence[int] = (),
    moved_aliases: Sequence[str] = (),
) -> None:
    """Re-resolve relations naming entries whose versions, or aliases, changed.

    ``names`` are entry names (kind and namespace are checked by the resolution
    itself, so a name shared across kinds only costs a recomputation). Rows that
    are dangling, point at the latest version, point at a deleted id or name a moved
    alias are recomputed; rows pinned to an existing version cannot have moved.
    """
    unique = sorted(set(names))
    gone = list(gone_ids) or [-1]
    moved = list(moved_aliases) or ["@"]  # "@" is never a version or alias
    sqlite = conn.dialect.name == "sqlite"
    for i in range(0, len(unique), CHUNK):
        chunk = unique[i : i + CHUNK]
        for side in ("src", "dst"):
            if sqlite:
                _raw(conn).execute(
                    _by_name_sqlite(side, len(chunk), len(gone), len(moved)),
                    [*chunk, *gone, *moved],
                )
            else:
                conn.execute(_BY_NAME[side], {"names": chunk, "gone": gone, "moved": moved})


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _by_name_sqlite(side: str, names: int, gone: int, moved: int) -> str:
    return (
        f"UPDATE relations SET {side}_id = {_resolution(side)} "
        f"WHERE {side}_name IN ({_marks(names)}) "
        f"AND ({side}_id IS NULL OR {side}_ver = '' OR {side}_id IN ({_marks(gone)}) "
        f"OR {side}_ver IN ({_marks(moved)}))"
    )
