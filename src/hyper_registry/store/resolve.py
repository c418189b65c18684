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
    return _resolve_expr(f"relations.{side}_kind", f"relations.{side}_ns",
                         f"relations.{side}_name", f"relations.{side}_ver")  # fmt: skip


def _resolve_expr(kind: str, ns: str, name: str, ver: str) -> str:
    # The entry a reference points at: an exact version first, then an alias of that
    # name, then (for an empty version) the latest one. The one definition of it, used
    # both to re-resolve stored rows and to resolve new rows before they are inserted.
    return f"""COALESCE(
        (SELECT e.id FROM entries e
          WHERE e.ref_key = {kind} || ':' || {ns} || '/' || {name} || '@' || {ver}),
        (SELECT e.id FROM aliases a JOIN entries e
             ON e.kind = a.kind AND e.namespace = a.namespace AND e.name = a.name
            AND e.version = a.version
          WHERE a.kind = {kind} AND a.namespace = {ns} AND a.name = {name}
            AND a.alias = {ver}),
        (SELECT e.id FROM entries e
          WHERE {ver} = '' AND e.kind = {kind} AND e.namespace = {ns}
            AND e.name = {name}
          ORDER BY e.version_key DESC LIMIT 1))"""


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


RefKey = tuple[str, str, str, str]  # kind, namespace, name, version ('' for the latest)
REFS_CHUNK = 200  # 4 parameters each


def resolve_refs(conn: sa.Connection, refs: Iterable[RefKey]) -> dict[RefKey, int | None]:
    """The entry id each reference points at now (None when it dangles).

    New relation rows are resolved this way before they are inserted: one query per
    chunk of distinct references instead of an UPDATE pass over the rows afterwards.
    """
    unique = list(dict.fromkeys(refs))
    out: dict[RefKey, int | None] = {}
    if not unique:
        return out
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    expr = _resolve_expr("w.k", "w.ns", "w.n", "w.v")
    cur = _raw(conn) if sqlite else None
    for i in range(0, len(unique), REFS_CHUNK):
        chunk = unique[i : i + REFS_CHUNK]
        values = ", ".join([f"({mark}, {mark}, {mark}, {mark})"] * len(chunk))
        if not sqlite:  # parameters of a VALUES list have no type of their own there
            values = ", ".join(
                [f"({mark}::text, {mark}::text, {mark}::text, {mark}::text)"] * len(chunk)
            )
        sql = f"WITH w(k, ns, n, v) AS (VALUES {values}) SELECT w.k, w.ns, w.n, w.v, {expr} FROM w"
        params = [p for ref in chunk for p in ref]
        rows = (
            cur.execute(sql, params)
            if cur is not None
            else conn.exec_driver_sql(sql, tuple(params))
        )
        for k, ns, n, v, found in rows:
            out[(k, ns, n, v)] = found
    return out


def resolve_names(
    conn: sa.Connection,
    names: Iterable[str],
    *,
    gone_ids: Sequence[int] = (),
    moved_aliases: Sequence[str] = (),
    below_id: int | None = None,
) -> None:
    """Re-resolve relations naming entries whose versions, or aliases, changed.

    ``names`` are entry names (kind and namespace are checked by the resolution
    itself, so a name shared across kinds only costs a recomputation). Rows that
    are dangling, point at the latest version, point at a deleted id or name a moved
    alias are recomputed; rows pinned to an existing version cannot have moved.
    ``below_id`` (SQLite, where the writer holds the only write lock) leaves out the
    rows this transaction inserted already resolved.
    """
    unique = sorted(set(names))
    gone = list(gone_ids) or [-1]
    moved = list(moved_aliases) or ["@"]  # "@" is never a version or alias
    sqlite = conn.dialect.name == "sqlite"
    for i in range(0, len(unique), CHUNK):
        chunk = unique[i : i + CHUNK]
        for side in ("src", "dst"):
            if sqlite:
                sql = _by_name_sqlite(side, len(chunk), len(gone), len(moved))
                params: list[Any] = [*chunk, *gone, *moved]
                if below_id is not None:
                    sql += " AND id < ?"
                    params.append(below_id)
                _raw(conn).execute(sql, params)
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
