"""Lineage: datasets, the models trained on them and the services that use those models.

``build_lineage_graph(registry, ref, direction, depth)`` walks the lineage relations
(``derivedFrom``, ``trainedOn``, ``uses``) from one entry, upstream (towards the raw
data), downstream (towards consumers) or both, and returns the nodes reached and the
edges between them, each edge carrying the transformations (jobs and their runs, and
column lineage where OpenLineage events gave it) recorded for it.

The walk is breadth-first by levels, one indexed query per level (chunked), with a
visited set: each entry is expanded once, so cycles end and the work is bounded by
the edges reached, never by the number of paths. Edges point the way data flows:
``from`` is the upstream end (the dataset read, the model used), ``to`` the
downstream end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import orjson
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from hyper_registry.core.envelope import Entry
from hyper_registry.core.errors import Invalid, Unavailable
from hyper_registry.core.ref import Ref
from hyper_registry.kinds.dataset.tables import lineage_edges, runs

if TYPE_CHECKING:
    from hyper_registry.core.registry import Registry

Direction = Literal["upstream", "downstream", "both"]
DIRECTIONS: tuple[str, ...] = ("upstream", "downstream", "both")
LINEAGE_RELATIONS = ("derivedFrom", "trainedOn", "uses")
"""Relations whose target feeds their source: data flows from ``dst`` to ``src``."""
CHUNK = 500
RUNS_PER_JOB = 5

_TYPES = ", ".join(f"'{t}'" for t in LINEAGE_RELATIONS)
# Ids are integers read from the database, so they are written into the statement as
# literals (no bind parameters to expand): the hot loop skips SQL compilation.
_UP = (
    "SELECT src_id, dst_id, type FROM relations WHERE src_id IN ({ids}) "
    f"AND dst_id IS NOT NULL AND type IN ({_TYPES})"
)
_DOWN = (
    "SELECT src_id, dst_id, type FROM relations WHERE dst_id IN ({ids}) "
    f"AND src_id IS NOT NULL AND type IN ({_TYPES})"
)
_NODES = "SELECT id, kind, namespace, name, version FROM entries WHERE id IN ({ids})"


@dataclass
class LineageNode:
    ref: str
    kind: str
    depth: int
    side: str  # "root", "upstream", "downstream" or "both" (on a cycle through the root)
    run: dict[str, Any] | None = None  # a model's producing run (spec.run: id and url)

    def to_dict(self) -> dict[str, Any]:
        out = {"ref": self.ref, "kind": self.kind, "depth": self.depth, "side": self.side}
        if self.run is not None:
            out["run"] = self.run
        return out


@dataclass
class LineageEdge:
    source: str  # upstream end: data flows from here...
    target: str  # ...to here
    relation: str  # as declared by the downstream end (derivedFrom, trainedOn, uses)
    transformations: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "relation": self.relation,
            "transformations": self.transformations,
        }


@dataclass
class LineageGraph:
    root: str
    direction: str
    depth: int
    nodes: list[LineageNode]
    edges: list[LineageEdge]

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "direction": self.direction,
            "depth": self.depth,
            "nodes": [n.to_dict() for n in self.nodes],
            "edges": [e.to_dict() for e in self.edges],
        }


def _in_list(ids: Sequence[int]) -> str:
    return ",".join(str(int(i)) for i in ids)


class _Nodes:
    """What is known of each entry reached: its reference text, kind and namespace."""

    def __init__(self, conn: sa.Connection, visible: frozenset[str] | None) -> None:
        self.conn = conn
        self.visible = visible
        self.refs: dict[int, str] = {}
        self.kinds: dict[int, str] = {}
        self.hidden: set[int] = set()

    def load(self, ids: Sequence[int]) -> None:
        todo = [i for i in ids if i not in self.refs and i not in self.hidden]
        for i in range(0, len(todo), CHUNK):
            sql = _NODES.format(ids=_in_list(todo[i : i + CHUNK]))
            for eid, kind, ns, name, ver in self.conn.exec_driver_sql(sql).fetchall():
                if self.visible is not None and ns not in self.visible:
                    self.hidden.add(eid)
                    continue
                self.refs[eid] = f"{kind}:{ns}/{name}@{ver}"
                self.kinds[eid] = kind


def _reach_sql(upstream: bool, restricted: bool) -> sa.TextClause:
    near, far = ("src_id", "dst_id") if upstream else ("dst_id", "src_id")
    visible = (
        f" AND EXISTS (SELECT 1 FROM entries v WHERE v.id = r.{far} AND v.namespace IN :ns)"
        if restricted
        else ""
    )
    stmt = sa.text(
        f"""
        WITH RECURSIVE walk(node, depth) AS (
            SELECT CAST(:root AS BIGINT), 0
            UNION
            SELECT r.{far}, w.depth + 1 FROM walk w JOIN relations r ON r.{near} = w.node
            WHERE w.depth < :depth AND r.{far} IS NOT NULL AND r.type IN ({_TYPES}){visible}
        )
        SELECT node, MIN(depth) FROM walk GROUP BY node
        """
    )
    return stmt.bindparams(sa.bindparam("ns", expanding=True)) if restricted else stmt


def _walk_recursive(
    conn: sa.Connection, root_id: int, upstream: bool, depth: int, nodes: _Nodes
) -> tuple[dict[int, int], set[tuple[int, int, str]]]:
    """``_walk`` as one recursive query (PostgreSQL: one round trip instead of one per level).

    Same answer: each node at its least depth, and the edges leaving every node reached
    above the depth bound towards a visible node.
    """
    params: dict[str, Any] = {"root": root_id, "depth": depth}
    if nodes.visible is not None:
        params["ns"] = sorted(nodes.visible) or [""]
    rows = conn.execute(_reach_sql(upstream, nodes.visible is not None), params).all()
    seen = {int(n): int(d) for n, d in rows}
    seen[root_id] = 0
    nodes.load(list(seen))
    inner = [n for n, d in seen.items() if d < depth]
    template = _UP if upstream else _DOWN
    edges: set[tuple[int, int, str]] = set()
    for i in range(0, len(inner), CHUNK):
        sql = template.format(ids=_in_list(inner[i : i + CHUNK]))
        for src, dst, rel in conn.exec_driver_sql(sql).fetchall():
            if (dst if upstream else src) in nodes.refs:
                edges.add((src, dst, rel))
    return seen, edges


def _walk(
    conn: sa.Connection, root_id: int, upstream: bool, depth: int, nodes: _Nodes
) -> tuple[dict[int, int], set[tuple[int, int, str]]]:
    """Node id -> depth, and the edges (downstream id, upstream id, relation) reached."""
    if conn.dialect.name == "postgresql":
        return _walk_recursive(conn, root_id, upstream, depth, nodes)
    template = _UP if upstream else _DOWN
    seen: dict[int, int] = {root_id: 0}
    edges: set[tuple[int, int, str]] = set()
    frontier = [root_id]
    for level in range(1, depth + 1):
        if not frontier:
            break
        found: list[tuple[int, int, str]] = []
        for i in range(0, len(frontier), CHUNK):
            sql = template.format(ids=_in_list(frontier[i : i + CHUNK]))
            found.extend(conn.exec_driver_sql(sql).fetchall())
        fresh = list({(d if upstream else s) for s, d, _ in found} - seen.keys())
        nodes.load(fresh)
        nxt: list[int] = []
        for src, dst, rel in found:
            other = dst if upstream else src
            if other not in nodes.refs:
                continue  # hidden from the caller: neither reported nor passed through
            edges.add((src, dst, rel))
            if other not in seen:
                seen[other] = level
                nxt.append(other)
        frontier = nxt
    return seen, edges


def build_lineage_graph(
    registry: Registry,
    ref: Ref | str,
    direction: str = "both",
    depth: int | None = None,
    *,
    namespaces: Sequence[str] | None = None,
    transformations: bool = True,
) -> LineageGraph:
    """The lineage around ``ref``: nodes reached within ``depth`` and the edges between them.

    ``namespaces`` (None: all) limits the walk to entries in those namespaces; a hidden
    entry is neither reported nor passed through.
    """
    if direction not in DIRECTIONS:
        raise Invalid.at(
            ("direction",),
            f"direction {direction!r} is not one of: {', '.join(DIRECTIONS)}",
            "bad-choice",
        )
    settings = registry.settings
    d = settings.default_graph_depth if depth is None else depth
    if not 1 <= d <= settings.max_graph_depth:
        raise Invalid.at(
            ("depth",), f"depth must be between 1 and {settings.max_graph_depth}, got {d}"
        )
    root_entry = registry.get(ref)
    visible = frozenset(namespaces) if namespaces is not None else None
    if visible is not None and root_entry.metadata.namespace not in visible:
        from hyper_registry.core.errors import NotFound

        raise NotFound(f"{ref} not found")
    try:
        return _build(registry, root_entry, direction, d, visible, transformations)
    except OperationalError as exc:
        raise Unavailable(f"the database is unavailable: {type(exc.orig).__name__}") from None


def _build(
    registry: Registry,
    root_entry: Entry,
    direction: str,
    d: int,
    visible: frozenset[str] | None,
    transformations: bool,
) -> LineageGraph:
    with registry.store.engine.connect() as conn:
        root_id = int(
            conn.execute(
                sa.text("SELECT id FROM entries WHERE uid = :uid"), {"uid": root_entry.uid}
            ).scalar_one()
        )
        known = _Nodes(conn, visible)
        known.refs[root_id] = str(root_entry.ref)
        known.kinds[root_id] = root_entry.kind
        sides: list[tuple[str, dict[int, int]]] = []
        all_edges: set[tuple[int, int, str]] = set()
        if direction in ("upstream", "both"):
            seen, edges = _walk(conn, root_id, True, d, known)
            sides.append(("upstream", seen))
            all_edges |= edges
        if direction in ("downstream", "both"):
            seen, edges = _walk(conn, root_id, False, d, known)
            sides.append(("downstream", seen))
            all_edges |= edges
        refs, kinds = known.refs, known.kinds
        nodes: dict[int, LineageNode] = {
            root_id: LineageNode(refs[root_id], kinds[root_id], 0, "root")
        }
        for side, seen in sides:
            for node, level in seen.items():
                had = nodes.get(node)
                if had is None:
                    nodes[node] = LineageNode(refs[node], kinds[node], level, side)
                elif had.side != "root":  # on a cycle: both upstream and downstream
                    nodes[node] = LineageNode(had.ref, had.kind, min(had.depth, level), "both")
        keyed = sorted((refs[dst], refs[src], rel) for src, dst, rel in all_edges)
        edge_list = [LineageEdge(a, b, rel) for a, b, rel in keyed]
        _model_runs(conn, nodes)
        if transformations and edge_list:
            _annotate(conn, edge_list, {refs[n]: refs[n].split("@", 1)[0] for n in nodes})
    ordered = sorted(nodes.values(), key=lambda n: (n.depth, n.side, n.ref))
    return LineageGraph(str(root_entry.ref), direction, d, ordered, edge_list)


def _model_runs(conn: sa.Connection, nodes: dict[int, LineageNode]) -> None:
    """Attach each model's producing run (``spec.run``) to its node."""
    ids = [i for i, n in nodes.items() if n.kind == "model"]
    for i in range(0, len(ids), CHUNK):
        sql = f"SELECT id, body FROM entries WHERE id IN ({_in_list(ids[i : i + CHUNK])})"
        for eid, body in conn.exec_driver_sql(sql).fetchall():
            run = (orjson.loads(body).get("spec") or {}).get("run")
            if isinstance(run, dict):
                nodes[eid].run = run


def _annotate(conn: sa.Connection, edges: list[LineageEdge], names: dict[str, str]) -> None:
    """Attach the jobs recorded for each dataset-to-dataset edge, with their recent runs."""
    wanted = {
        (names[e.source], names[e.target])
        for e in edges
        if e.source.startswith("dataset:") and e.target.startswith("dataset:")
    }
    if not wanted:
        return
    targets = sorted({t for _, t in wanted})
    found: dict[tuple[str, str], list[Any]] = {}
    for i in range(0, len(targets), CHUNK):
        rows = conn.execute(
            sa.select(lineage_edges).where(lineage_edges.c.dst_ref.in_(targets[i : i + CHUNK]))
        ).all()
        for row in rows:
            key = (row.src_ref, row.dst_ref)
            if key in wanted:
                found.setdefault(key, []).append(row)
    if not found:
        return
    job_keys = sorted({row.job_key for rows in found.values() for row in rows})
    recent: dict[str, list[dict[str, Any]]] = {}
    for i in range(0, len(job_keys), CHUNK):
        for run in conn.execute(
            sa.select(runs.c.run_id, runs.c.job_key, runs.c.state, runs.c.event_time)
            .where(runs.c.job_key.in_(job_keys[i : i + CHUNK]))
            .order_by(runs.c.event_time.desc())
        ):
            bucket = recent.setdefault(run.job_key, [])
            if len(bucket) < RUNS_PER_JOB:
                bucket.append(
                    {"runId": run.run_id, "state": run.state, "eventTime": run.event_time}
                )
    for edge in edges:
        for row in found.get((names[edge.source], names[edge.target]), []):
            edge.transformations.append(
                {
                    "job": {"namespace": row.job_namespace, "name": row.job_name},
                    "source": "spec" if row.job_key.startswith("spec:") else "openlineage",
                    "lastRun": row.run_id,
                    "eventTime": row.event_time,
                    "runs": recent.get(row.job_key, []),
                    "columns": orjson.loads(row.columns) if row.columns else [],
                }
            )
