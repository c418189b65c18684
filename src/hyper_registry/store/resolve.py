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
    return _resolve_expr(*_columns(side))


def _pinning(side: str) -> str:
    return f"({_exact_expr(*_columns(side))}) IS NOT NULL"


def _columns(side: str) -> tuple[str, str, str, str]:
    return (f"relations.{side}_kind", f"relations.{side}_ns",
            f"relations.{side}_name", f"relations.{side}_ver")  # fmt: skip


def _exact_expr(kind: str, ns: str, name: str, ver: str) -> str:
    # The entry an exact version names (never an alias, never the latest).
    return f"""SELECT e.id FROM entries e
          WHERE e.ref_key = {kind} || ':' || {ns} || '/' || {name} || '@' || {ver}"""


def _resolve_expr(kind: str, ns: str, name: str, ver: str) -> str:
    # The entry a reference points at: an exact version first, then an alias of that
    # name, then (for an empty version) the latest one. The one definition of it, used
    # both to re-resolve stored rows and to resolve new rows before they are inserted.
    return f"""COALESCE(
        ({_exact_expr(kind, ns, name, ver)}),
        (SELECT e.id FROM aliases a JOIN entries e
             ON e.kind = a.kind AND e.namespace = a.namespace AND e.name = a.name
            AND e.version = a.version
          WHERE a.kind = {kind} AND a.namespace = {ns} AND a.name = {name}
            AND a.alias = {ver}),
        (SELECT e.id FROM entries e
          WHERE {ver} = '' AND e.kind = {kind} AND e.namespace = {ns}
            AND e.name = {name}
          ORDER BY e.version_key DESC LIMIT 1))"""


def _raw(conn: sa.Connection) -> Any:
    # SQLite runs these through the DBAPI cursor (see writer.raw_cursor): same SQL text.
    return conn.connection.driver_connection.cursor()  # type: ignore[union-attr]


RefKey = tuple[str, str, str, str]  # kind, namespace, name, version ('' for the latest)
Resolved = tuple[int | None, bool]  # the entry id (None: dangling), pinned by its exact version
REFS_CHUNK = 200  # 4 parameters each


def resolve_refs(conn: sa.Connection, refs: Iterable[RefKey]) -> dict[RefKey, Resolved]:
    """The entry id each reference points at now, and whether its exact version names it.

    New relation rows are resolved this way before they are inserted: one query per
    chunk of distinct references instead of an UPDATE pass over the rows afterwards.
    """
    unique = list(dict.fromkeys(refs))
    out: dict[RefKey, Resolved] = {}
    if not unique:
        return out
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    expr = _resolve_expr("w.k", "w.ns", "w.n", "w.v")
    exact = _exact_expr("w.k", "w.ns", "w.n", "w.v")
    cur = _raw(conn) if sqlite else None
    for i in range(0, len(unique), REFS_CHUNK):
        chunk = unique[i : i + REFS_CHUNK]
        values = ", ".join([f"({mark}, {mark}, {mark}, {mark})"] * len(chunk))
        if not sqlite:  # parameters of a VALUES list have no type of their own there
            values = ", ".join(
                [f"({mark}::text, {mark}::text, {mark}::text, {mark}::text)"] * len(chunk)
            )
        sql = (
            f"WITH w(k, ns, n, v) AS (VALUES {values}) "
            f"SELECT w.k, w.ns, w.n, w.v, {expr}, ({exact}) IS NOT NULL FROM w"
        )
        params = [p for ref in chunk for p in ref]
        rows = (
            cur.execute(sql, params)
            if cur is not None
            else conn.exec_driver_sql(sql, tuple(params))
        )
        for k, ns, n, v, found, pinned in rows:
            out[(k, ns, n, v)] = (found, bool(pinned))
    return out


def resolve_names(
    conn: sa.Connection,
    names: Iterable[str],
    *,
    gone_ids: Sequence[int] = (),
    below_id: int | None = None,
) -> None:
    """Re-resolve relations naming entries whose versions, or aliases, changed.

    ``names`` are entry names (kind and namespace are checked by the resolution
    itself, so a name shared across kinds only costs a recomputation). Every end of
    such a name that is not pinned (dangling, latest, an alias: the rows of the partial
    name indexes) is recomputed; a pinned end names an exact version, which only a
    deletion moves: rows pointing at ``gone_ids`` are recomputed through the id
    indexes. An alias that moved needs nothing more: alias ends are never pinned, so
    they are recomputed with their name. ``below_id`` (SQLite, where the writer holds
    the only write lock) leaves out the rows this transaction inserted already resolved.
    """
    unique = sorted(set(names))
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"

    def run(sql: str, params: Sequence[Any]) -> None:
        if sqlite:
            _raw(conn).execute(sql, params)
        else:
            conn.exec_driver_sql(sql, tuple(params))

    gone = list(gone_ids)
    for side in ("src", "dst"):
        update = f"UPDATE relations SET {side}_id = {_resolution(side)}, {side}_pinned = {_pinning(side)} "
        for i in range(0, len(gone), CHUNK):
            chunk_ids = gone[i : i + CHUNK]
            run(update + f"WHERE {side}_id IN ({_marks(len(chunk_ids), mark)})", chunk_ids)
        for i in range(0, len(unique), CHUNK):
            chunk = unique[i : i + CHUNK]
            sql = (
                update + f"WHERE NOT {side}_pinned AND {side}_name IN ({_marks(len(chunk), mark)})"
            )
            params: list[Any] = list(chunk)
            if below_id is not None:
                sql += f" AND id < {mark}"
                params.append(below_id)
            run(sql, params)


def _marks(n: int, mark: str = "?") -> str:
    return ", ".join([mark] * n)
