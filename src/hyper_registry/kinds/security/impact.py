"""The impact of a vulnerability: from any of its ids to everything it reaches.

1. The advisories known by the id or alias (a CVE may be stored as a GHSA and a PYSEC record).
2. Their findings: the affected components, in which SBOMs (open or under investigation,
   or confirmed ``affected``; findings VEX marks ``not_affected`` or ``fixed`` are listed apart).
3. The artifacts those SBOMs describe, and everything that transitively depends on them:
   ``Registry.impact`` from each SBOM (the SBOM ``describes`` its artifact, then
   ``usedBy``, ``calledBy``, ``deploys``... as the graph module walks them), each hit with
   its path starting at the vulnerability.
4. What the affected artifacts run with (``context``: true): the models an affected service
   serves (``uses``), the datasets those models were trained on, and the templates that
   deploy an affected artifact (``deployedBy``). The core graph carries a problem the other
   way along these relations; for a vulnerability they are what an attacker reaches next
   and what must be redeployed, so the impact lists them too, marked as context.
5. Minus what VEX marks not affected: an artifact with a ``not_affected``/``fixed``
   statement for this vulnerability is dropped, and so is whatever is reached only through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from hyper_registry.core.errors import NotFound
from hyper_registry.kinds.security import tables as t
from hyper_registry.kinds.security.index import SUPPRESSING
from hyper_registry.kinds.security.queries import (
    _FINDING_COLS,
    _FINDING_FROM,
    advisories_for,
    advisory_dict,
    finding_dict,
)
from hyper_registry.kinds.security.triage import _same

if TYPE_CHECKING:
    from hyper_registry.kinds.security.index import SecurityIndex


def vulnerability_impact(
    index: SecurityIndex,
    vulnerability: str,
    *,
    namespaces: Sequence[str] | None = None,
    depth: int | None = None,
) -> dict[str, Any]:
    # Advisories are public knowledge: any token may ask about one; only the findings,
    # SBOMs and artifacts of its own namespaces are shown (and the advisory's entry
    # reference only when its namespace is visible too).
    rows = advisories_for(index, vulnerability)
    if not rows:
        raise NotFound(f"no stored advisory is known as {vulnerability}")
    pks = [r.id for r in rows]
    with index.read() as conn:
        advisories = [advisory_dict(conn, r) for r in rows if r.sbom_id is None]
        for a, r in zip(advisories, [r for r in rows if r.sbom_id is None], strict=True):
            if namespaces is not None and r.namespace not in namespaces:
                a["ref"] = None
        found = [
            finding_dict(r)
            for r in conn.execute(
                sa.select(*_FINDING_COLS)
                .select_from(_FINDING_FROM)
                .where(t.findings.c.advisory_pk.in_(pks))
                .order_by(t.findings.c.id)
            )
            if namespaces is None or r.sbom_namespace in namespaces
        ]
        keys = sorted(
            {
                r.alias_key
                for r in conn.execute(
                    sa.select(t.advisory_aliases.c.alias_key).where(
                        t.advisory_aliases.c.advisory_pk.in_(pks)
                    )
                )
            }
        )
        cleared = [
            s.target
            for s in conn.execute(
                sa.select(
                    t.vex_statements.c.target, t.vex_statements.c.status, t.vex_statements.c.id
                )
                .where(
                    t.vex_statements.c.vuln_key.in_(keys) & (t.vex_statements.c.scope == "artifact")
                )
                .order_by(t.vex_statements.c.id)
            )
            if s.status in SUPPRESSING
        ]
    open_findings = [f for f in found if not f["suppressed"]]
    suppressed = [f for f in found if f["suppressed"]]
    sboms: dict[str, dict[str, Any]] = {}
    for f in open_findings:
        entry = sboms.setdefault(
            f["sbom"], {"ref": f["sbom"], "artifact": f["artifact"], "components": []}
        )
        label = f["component"]["purl"] or f"{f['component']['name']}@{f['component']['version']}"
        if label not in entry["components"]:
            entry["components"].append(label)
    best: dict[str, dict[str, Any]] = {}

    def keep(ref: str, path: list[dict[str, str]], via: str) -> None:
        if cleared and any(_same(target, hop["ref"]) for hop in path[1:] for target in cleared):
            return
        seen = best.get(ref)
        if seen is None or len(path) < len(seen["path"]):
            best[ref] = {"ref": ref, "depth": len(path), "path": path, "via": via}

    # One walk per described artifact (many SBOMs may describe the same one); an SBOM
    # without a linked artifact is walked from itself (a declared relation may lead on).
    registry = index.registry
    limit = depth or registry.settings.default_graph_depth
    artifacts: dict[str, str] = {}
    for sbom_ref in sorted(sboms):
        linked = sboms[sbom_ref]["artifact"]
        try:
            art = registry.get(linked).ref if linked else None
        except NotFound:
            art = None
        if art is None:
            for hit in registry.impact(sbom_ref, depth=limit, namespaces=namespaces):
                hops = [{"relation": h.relation, "ref": h.ref} for h in hit.path]
                keep(str(hit.ref), [{"relation": "affects", "ref": sbom_ref}, *hops], sbom_ref)
        elif namespaces is None or art.namespace in namespaces:
            artifacts.setdefault(str(art), sbom_ref)
    for art_ref, sbom_ref in sorted(artifacts.items()):
        keep(
            art_ref,
            [{"relation": "affects", "ref": sbom_ref}, {"relation": "describes", "ref": art_ref}],
            sbom_ref,
        )
    if artifacts and limit > 1:
        for root, hit_ref, hops in _walk_many(index, sorted(artifacts), limit - 1, namespaces):
            sbom_ref = artifacts[root]
            base = [
                {"relation": "affects", "ref": sbom_ref},
                {"relation": "describes", "ref": root},
            ]
            keep(hit_ref, [*base, *hops], sbom_ref)
    _add_context(index, best, namespaces)
    affected = sorted(best.values(), key=lambda h: (h["depth"], h["ref"]))
    return {
        "vulnerability": vulnerability,
        "root": advisories[0]["ref"] if advisories and advisories[0]["ref"] else vulnerability,
        "advisories": advisories,
        "components": open_findings,
        "sboms": [{**s, "linked": s["artifact"] is not None} for _, s in sorted(sboms.items())],
        "affected": affected,
        "suppressed": suppressed,
    }


_CONTEXT = {
    # relation (canonical, stored from the affected artifact) -> kinds it leads to
    "deployedBy": ("infra",),
    "uses": ("model",),
    "trainedOn": ("dataset",),
}


def _add_context(
    index: SecurityIndex, best: dict[str, dict[str, Any]], namespaces: Sequence[str] | None
) -> None:
    """Add models served, their training data and deploying templates (two rounds)."""
    from hyper_registry.store.schema import entries, relations

    frontier = sorted(best)
    for _ in range(2):
        if not frontier:
            return
        src, dst = entries.alias("src"), entries.alias("dst")
        found: list[Any] = []
        with index.read() as conn:
            for i in range(0, len(frontier), 500):
                found.extend(
                    conn.execute(
                        sa.select(
                            src.c.ref_key.label("src"),
                            relations.c.type,
                            dst.c.ref_key.label("dst"),
                            dst.c.kind,
                            dst.c.namespace,
                        )
                        .select_from(
                            src.join(relations, relations.c.src_id == src.c.id).join(
                                dst, dst.c.id == relations.c.dst_id
                            )
                        )
                        .where(
                            src.c.ref_key.in_(frontier[i : i + 500])
                            & relations.c.type.in_(sorted(_CONTEXT))
                        )
                    ).all()
                )
        frontier = []
        for r in sorted(found, key=lambda r: (r.src, r.type, r.dst)):
            if r.kind not in _CONTEXT[r.type] or r.dst in best:
                continue
            if namespaces is not None and r.namespace not in namespaces:
                continue
            parent = best[r.src]
            path = [*parent["path"], {"relation": r.type, "ref": r.dst}]
            best[r.dst] = {
                "ref": r.dst,
                "depth": len(path),
                "path": path,
                "via": parent["via"],
                "context": True,
            }
            frontier.append(r.dst)


# The impact walk of graph/sql.py, seeded with many roots at once: one recursive query for
# all the described artifacts instead of one per artifact (they overlap heavily).
_WALK = """
    WITH RECURSIVE walk(node, depth, parent, rel, fwd) AS (
        SELECT e.id, 0, CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR(32)), CAST(NULL AS INTEGER)
        FROM entries e WHERE e.ref_key IN :roots
        UNION
        SELECT CASE WHEN r.src_id = w.node THEN r.dst_id ELSE r.src_id END, w.depth + 1,
               w.node, r.type, CASE WHEN r.src_id = w.node THEN 1 ELSE 0 END
        FROM walk w JOIN relations r
          ON (r.src_id = w.node AND r.impact_fwd = TRUE AND r.dst_id IS NOT NULL)
          OR (r.dst_id = w.node AND r.impact_fwd = FALSE AND r.src_id IS NOT NULL)
        WHERE w.depth < :depth{visible}
    )
    SELECT node, depth, parent, rel, fwd FROM walk
"""
_VISIBLE = (
    " AND EXISTS (SELECT 1 FROM entries v WHERE"
    " v.id = CASE WHEN r.src_id = w.node THEN r.dst_id ELSE r.src_id END"
    " AND v.namespace IN :namespaces)"
)


def _walk_many(
    index: SecurityIndex, roots: list[str], depth: int, namespaces: Sequence[str] | None
) -> list[tuple[str, str, list[dict[str, str]]]]:
    """(root, reached entry, path from the root) for everything the roots reach, each
    entry once, by its shallowest way (ties broken by relation name, then parent)."""
    from hyper_registry.core import relations as vocab

    stmt = sa.text(_WALK.format(visible=_VISIBLE if namespaces is not None else "")).bindparams(
        sa.bindparam("roots", expanding=True)
    )
    params: dict[str, Any] = {"roots": roots, "depth": depth}
    if namespaces is not None:
        stmt = stmt.bindparams(sa.bindparam("namespaces", expanding=True))
        params["namespaces"] = list(namespaces) or [""]
    with index.read() as conn:
        rows = conn.execute(stmt, params).all()
        seeds = {r.node for r in rows if r.depth == 0}
        best: dict[int, tuple[int, str, int, int]] = {}
        for node, d, parent, rel, fwd in rows:
            if d == 0 or node in seeds:
                continue
            seen = best.get(node)
            if seen is None or (d, rel, parent) < (seen[0], seen[1], seen[2]):
                best[node] = (d, rel, parent, fwd)
        ids = sorted({*best, *seeds})
        refs: dict[int, str] = {}
        for i in range(0, len(ids), 500):
            for row in conn.execute(
                sa.text("SELECT id, ref_key FROM entries WHERE id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": ids[i : i + 500]},
            ):
                refs[row.id] = row.ref_key
    out: list[tuple[str, str, list[dict[str, str]]]] = []
    for node in best:
        hops: list[dict[str, str]] = []
        cur = node
        while cur not in seeds:
            _, rel, parent, fwd = best[cur]
            name = rel if fwd else vocab.inverse_name(rel)
            hops.append({"relation": name, "ref": refs[cur]})
            cur = parent
        hops.reverse()
        out.append((refs[cur], refs[node], hops))
    return out
