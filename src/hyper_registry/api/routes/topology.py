"""``GET /v1/topology``: every entry the token sees as a node, and the resolved relations
between them as directed edges, for the web UI's 3D view (and any graph tool).

One answer, capped rather than paged: a picture of half a graph is no picture, so the
caller narrows with ``kind`` and ``namespace`` (or ``latest=true``) and the answer says
``truncated`` when the cap cut it. ``GET /v1/topology/seq`` is the change-log position
a client starts following the stream from after it has drawn the snapshot.
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request
from sqlalchemy.exc import OperationalError
from starlette.responses import Response

from hyper_registry.api import responses as r
from hyper_registry.api.auth import AuthenticatedRoute, principal_of
from hyper_registry.api.patterns import NAME_PATTERN
from hyper_registry.api.state import api_state
from hyper_registry.core.errors import Invalid, Unavailable
from hyper_registry.core.ref import NAMESPACE_MAX
from hyper_registry.core.registry import Registry
from hyper_registry.core.settings import Settings
from hyper_registry.store.schema import changes, entries, relations

MAX_NODES = 20_000
DEFAULT_NODES = 10_000
EDGES_PER_NODE = 4  # the edge cap is this many times the node cap


def _conditions(
    kinds: list[str] | None, namespace: str | None, visible: list[str] | None
) -> list[sa.ColumnElement[bool]]:
    conds: list[sa.ColumnElement[bool]] = []
    if kinds:
        conds.append(entries.c.kind.in_(kinds))
    if namespace:
        conds.append(entries.c.namespace == namespace)
    if visible is not None:
        conds.append(entries.c.namespace.in_(visible or [""]))
    return conds


def _latest_keys(conds: list[sa.ColumnElement[bool]]) -> sa.Subquery:
    return (
        sa.select(
            entries.c.kind,
            entries.c.namespace,
            entries.c.name,
            sa.func.max(entries.c.version_key).label("vk"),
        )
        .where(*conds)
        .group_by(entries.c.kind, entries.c.namespace, entries.c.name)
        .subquery("latest")
    )


def _node_select(
    conds: list[sa.ColumnElement[bool]], latest_only: bool, *cols: Any
) -> sa.Select[Any]:
    latest = _latest_keys(conds)
    on = sa.and_(
        entries.c.kind == latest.c.kind,
        entries.c.namespace == latest.c.namespace,
        entries.c.name == latest.c.name,
    )
    is_latest = sa.case((entries.c.version_key == latest.c.vk, True), else_=False).label("latest")
    stmt = sa.select(*cols, is_latest).select_from(entries.join(latest, on)).where(*conds)
    if latest_only:
        stmt = stmt.where(entries.c.version_key == latest.c.vk)
    return stmt


def snapshot(
    registry: Registry,
    *,
    kinds: list[str] | None,
    namespace: str | None,
    visible: list[str] | None,
    latest_only: bool,
    limit: int,
) -> dict[str, Any]:
    """Nodes (ordered by registration) and the resolved relations among them."""
    conds = _conditions(kinds, namespace, visible)
    edge_cap = limit * EDGES_PER_NODE
    try:
        with registry.store.engine.connect() as conn:
            seq = _head(conn, visible)
            rows = conn.execute(
                _node_select(
                    conds,
                    latest_only,
                    entries.c.id,
                    entries.c.kind,
                    entries.c.namespace,
                    entries.c.name,
                    entries.c.version,
                    entries.c.title,
                )
                .order_by(entries.c.id)
                .limit(limit + 1)
            ).all()
            truncated = len(rows) > limit
            rows = rows[:limit]
            index = {row.id: i for i, row in enumerate(rows)}
            edges: list[dict[str, Any]] = []
            if rows:
                stmt = sa.select(relations.c.src_id, relations.c.dst_id, relations.c.type).where(
                    relations.c.src_id.is_not(None), relations.c.dst_id.is_not(None)
                )
                if conds or latest_only or truncated:
                    # Narrowed: only relations among the chosen nodes leave the database.
                    ids = _node_select(conds, latest_only, entries.c.id).where(
                        entries.c.id <= rows[-1].id
                    )
                    id_sub = sa.select(ids.subquery().c.id)
                    stmt = stmt.where(
                        relations.c.src_id.in_(id_sub), relations.c.dst_id.in_(id_sub)
                    )
                seen: set[tuple[int, int, str]] = set()
                for src, dst, rel in conn.execute(stmt):
                    s, d = index.get(src), index.get(dst)
                    if s is None or d is None or s == d:
                        continue  # written after the nodes were read, or a self-loop
                    seen.add((s, d, rel))
                edges = [
                    {"source": s, "target": d, "type": rel}
                    for s, d, rel in sorted(seen)[: edge_cap + 1]
                ]
                if len(edges) > edge_cap:
                    truncated = True
                    edges = edges[:edge_cap]
    except OperationalError:
        raise Unavailable("the database is unavailable") from None
    nodes = [
        {
            "ref": f"{row.kind}:{row.namespace}/{row.name}@{row.version}",
            "kind": row.kind,
            "namespace": row.namespace,
            "name": row.name,
            "version": row.version,
            "title": row.title,
            "latest": bool(row.latest),
        }
        for row in rows
    ]
    return {"nodes": nodes, "edges": edges, "truncated": truncated, "seq": seq}


def _head(conn: sa.Connection, visible: list[str] | None) -> int:
    stmt = sa.select(sa.func.max(changes.c.seq))
    if visible is not None:
        stmt = stmt.where(changes.c.namespace.in_(visible or [""]))
    return int(conn.execute(stmt).scalar() or 0)


def head(registry: Registry, visible: list[str] | None) -> int:
    try:
        with registry.store.engine.connect() as conn:
            return _head(conn, visible)
    except OperationalError:
        raise Unavailable("the database is unavailable") from None


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1/topology", tags=["graph"], route_class=AuthenticatedRoute)

    @api.get(
        "",
        responses={
            200: {
                "description": (
                    "`nodes` (each with `ref`, `kind`, `namespace`, `name`, `version`, "
                    "`title`, `latest`), `edges` (`source` and `target` index `nodes`, "
                    "`type` is the relation as declared), `truncated`, and `seq`: the "
                    "change-log position of this snapshot"
                ),
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            **r.problems(),
        },
        summary="The graph of every visible entry, for drawing",
    )
    async def topology(
        request: Request,
        kind: Annotated[
            list[str] | None, Query(description="only these kinds (repeatable)", max_length=16)
        ] = None,
        namespace: Annotated[
            str | None, Query(pattern=NAME_PATTERN, max_length=NAMESPACE_MAX)
        ] = None,
        latest: Annotated[bool, Query(description="only the latest version of each entry")] = False,
        limit: Annotated[
            int, Query(ge=1, le=MAX_NODES, description=f"at most this many nodes ({MAX_NODES})")
        ] = DEFAULT_NODES,
    ) -> Response:
        principal = principal_of(request)
        state = api_state(request)
        for i, k in enumerate(kind or ()):
            if k not in state.registry.kinds:
                known = ", ".join(state.registry.kinds.names)
                raise Invalid.at(
                    ("query", "kind", i), f"unknown kind {k[:63]!r}; known: {known}", "unknown-kind"
                )
        body = await state.offload(
            snapshot,
            state.registry,
            kinds=kind or None,
            namespace=namespace,
            visible=principal.visible,
            latest_only=latest,
            limit=limit,
        )
        return r.json(body)

    @api.get(
        "/seq",
        responses={
            200: {
                "description": "`seq`: the latest change this token can see (0 for none)",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            **r.problems(),
        },
        summary="The change-log position to follow the stream from",
    )
    async def topology_seq(request: Request) -> Response:
        principal = principal_of(request)
        state = api_state(request)
        return r.json({"seq": await state.read(head, state.registry, principal.visible)})

    return api
