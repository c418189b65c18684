"""The service topology: services as nodes, ``calls`` relations as edges, mesh metadata.

Nodes are services by name (the latest version of each); an edge is a ``calls``
relation, declared or implied by ``spec.calls``. A target that is not registered yet
is a node with ``registered: false``. An edge between two services in the same mesh
(same provider, both enabled) is ``meshed``, and ``mtls`` when both ends require mTLS.
Only namespaces the caller may see appear, and no edge leads out of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from hyper_registry.core.ref import Ref
from hyper_registry.core.registry import Registry
from hyper_registry.kinds.service.spec import ServiceSpec
from hyper_registry.kinds.service.tables import checks
from hyper_registry.store.base import Query


def _name(ref: Ref) -> str:
    return f"{ref.kind}:{ref.namespace}/{ref.name}"


def topology(registry: Registry, namespaces: Sequence[str] | None = None) -> dict[str, Any]:
    """Nodes, edges and meshes of every visible service (``namespaces`` None: all)."""
    visible = None if namespaces is None else set(namespaces)
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[dict[str, Any]] = []
    after: int | None = None
    entries = []
    while True:
        page = registry.query(
            Query(kinds=["service"], visible_namespaces=namespaces, limit=500, after=after)
        )
        entries.extend(page.items)
        if page.next_cursor is None:
            break
        after = page.next_cursor
    with registry.store.engine.connect() as conn:
        health = (
            {
                row.ref: row.status
                for row in conn.execute(
                    sa.select(checks.c.ref, checks.c.status).where(
                        checks.c.ref.in_([str(e.ref) for e in entries])
                    )
                )
            }
            if entries
            else {}
        )
    calls: list[tuple[str, Ref]] = []
    for entry in entries:
        spec = ServiceSpec.model_validate(entry.spec)
        mesh = spec.mesh.model_dump() if spec.mesh else None
        key = _name(entry.ref)
        nodes[key] = {
            "name": key,
            "ref": str(entry.ref),
            "version": entry.metadata.version,
            "registered": True,
            "mesh": mesh,
            "health": health.get(str(entry.ref)),
        }
        targets = list(spec.calls) + [
            Ref.parse(r["target"]) for r in entry.relations if r.get("type") == "calls"
        ]
        for target in targets:
            calls.append((key, target))
    seen: set[tuple[str, str]] = set()
    for source, target in calls:
        if visible is not None and target.namespace not in visible:
            continue
        dst = _name(target)
        if (source, dst) in seen:
            continue
        seen.add((source, dst))
        if dst not in nodes:
            nodes[dst] = {
                "name": dst,
                "ref": None,
                "version": None,
                "registered": False,
                "mesh": None,
                "health": None,
            }
        a, b = nodes[source]["mesh"], nodes[dst]["mesh"]
        meshed = bool(
            a and b and a["enabled"] and b["enabled"] and a.get("provider") == b.get("provider")
        )
        edges.append(
            {
                "from": source,
                "to": dst,
                "meshed": meshed,
                "mtls": bool(meshed and a and b and a["mtls"] and b["mtls"]),
            }
        )
    meshes: dict[str, list[str]] = {}
    for node in nodes.values():
        mesh = node["mesh"]
        if mesh and mesh["enabled"]:
            meshes.setdefault(mesh.get("provider") or "unnamed", []).append(node["name"])
    return {
        "nodes": sorted(nodes.values(), key=lambda n: n["name"]),
        "edges": sorted(edges, key=lambda e: (e["from"], e["to"])),
        "meshes": {k: sorted(v) for k, v in sorted(meshes.items())},
    }
