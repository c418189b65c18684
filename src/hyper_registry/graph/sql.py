"""Graph traversal as one recursive query in the database.

The walk is breadth-first by levels: each row is (node, depth, parent, relation,
direction). ``UNION`` drops repeated rows, and the depth bound ends cycles, so a
cyclic graph terminates; the work is bounded by edges x depth, never by the number
of paths. The shortest path to each node is rebuilt from its parents afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from hyper_registry.core import relations as vocab
from hyper_registry.core.ref import Ref
from hyper_registry.store.base import GraphHit, Hop, TraversalMode

_JOIN = {
    "dependencies": "r.src_id = w.node AND r.dst_id IS NOT NULL",
    "dependents": "r.dst_id = w.node AND r.src_id IS NOT NULL",
    "impact": (
        "(r.src_id = w.node AND r.impact_fwd = TRUE AND r.dst_id IS NOT NULL)"
        " OR (r.dst_id = w.node AND r.impact_fwd = FALSE AND r.src_id IS NOT NULL)"
    ),
}

_NEXT = "CASE WHEN r.src_id = w.node THEN r.dst_id ELSE r.src_id END"
_FWD = "CASE WHEN r.src_id = w.node THEN 1 ELSE 0 END"


def _statement(mode: TraversalMode, restricted: bool) -> sa.TextClause:
    if mode == "dependencies":
        nxt, fwd = "r.dst_id", "1"
    elif mode == "dependents":
        nxt, fwd = "r.src_id", "0"
    else:
        nxt, fwd = _NEXT, _FWD
    visible = (
        f" AND EXISTS (SELECT 1 FROM entries v WHERE v.id = {nxt} AND v.namespace IN :namespaces)"
        if restricted
        else ""
    )
    sql = f"""
        WITH RECURSIVE walk(node, depth, parent, rel, fwd) AS (
            SELECT CAST(:root AS BIGINT), 0, CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR(32)),
                   CAST(NULL AS INTEGER)
            UNION
            SELECT {nxt}, w.depth + 1, w.node, r.type, {fwd}
            FROM walk w JOIN relations r ON {_JOIN[mode]}
            WHERE w.depth < :depth{visible}
        )
        SELECT node, depth, parent, rel, fwd FROM walk WHERE depth > 0
    """
    stmt = sa.text(sql)
    if restricted:
        stmt = stmt.bindparams(sa.bindparam("namespaces", expanding=True))
    return stmt


def walk(
    conn: sa.Connection,
    root_id: int,
    mode: TraversalMode,
    *,
    depth: int,
    kinds: Sequence[str] | None = None,
    namespaces: Sequence[str] | None = None,
) -> list[GraphHit]:
    params: dict[str, Any] = {"root": root_id, "depth": depth}
    if namespaces is not None:
        params["namespaces"] = list(namespaces) or [""]
    rows = conn.execute(_statement(mode, namespaces is not None), params).all()

    # The first (shallowest) way each node is reached; its parent was reached one level up.
    best: dict[int, tuple[int, int, str, int]] = {}
    for node, d, parent, rel, fwd in rows:
        if node == root_id:
            continue
        seen = best.get(node)
        # The shallowest way wins; among equally deep ways the choice is made stable
        # (by relation name, then parent) so the same graph always reports the same path.
        if seen is None or (d, rel, parent) < (seen[0], seen[2], seen[1]):
            best[node] = (d, parent, rel, fwd)
    if not best:
        return []
    refs: dict[int, Ref] = {}
    ids = [*best, root_id]
    for i in range(0, len(ids), 500):
        for row in conn.execute(
            sa.text(
                "SELECT id, kind, namespace, name, version FROM entries WHERE id IN :ids"
            ).bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": ids[i : i + 500]},
        ):
            refs[row.id] = Ref(row.kind, row.namespace, row.name, row.version)

    hits: list[GraphHit] = []
    for node, (d, _parent, _rel, _fwd) in best.items():
        hops: list[Hop] = []
        cur = node
        while cur != root_id:
            _, parent, rel, fwd = best[cur]
            name = rel if fwd else vocab.inverse_name(rel)
            hops.append(Hop(name, str(refs[cur])))
            cur = parent
        hops.reverse()
        ref = refs[node]
        if kinds and ref.kind not in kinds:
            continue
        hits.append(GraphHit(ref, d, tuple(hops)))
    hits.sort(key=lambda h: (h.depth, str(h.ref)))
    return hits
