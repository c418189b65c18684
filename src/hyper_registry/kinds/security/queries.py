"""Reading the index: findings, summaries, the portfolio, and vulnerability lookups.

A finding is one component affected by one advisory. Summaries count open findings by
severity (critical, high, medium, low, unknown); ``unpatched`` counts open findings for
which a fixed version exists (the component is below it, so the fix is not applied);
``suppressed`` counts findings a VEX statement marks ``not_affected`` or ``fixed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from hyper_registry.core.errors import NotFound
from hyper_registry.core.ref import Ref
from hyper_registry.kinds.security import tables as t
from hyper_registry.kinds.security.index import SEVERITIES, SUPPRESSING, alias_key

if TYPE_CHECKING:
    from hyper_registry.kinds.security.index import SecurityIndex

SUMMARY_KEYS = (*SEVERITIES, "unpatched", "suppressed")
CHUNK = 500


def empty_summary() -> dict[str, int]:
    return dict.fromkeys(SUMMARY_KEYS, 0)


def count_into(counts: dict[str, int], severity: str, status: str, fixed: str | None) -> None:
    if status in SUPPRESSING:
        counts["suppressed"] += 1
        return
    counts[severity if severity in SEVERITIES else "unknown"] += 1
    if fixed:
        counts["unpatched"] += 1


def sbom_rows_for(
    index: SecurityIndex, ref: str, namespaces: Sequence[str] | None = None
) -> tuple[Ref, list[Any]]:
    """The entry ``ref`` names and the SBOM rows that stand for it (itself, or describing it)."""
    registry = index.registry
    entry = registry.get(ref)
    if namespaces is not None and entry.metadata.namespace not in namespaces:
        raise NotFound(f"{ref} not found")
    with index.read() as conn:
        own = conn.execute(sa.select(t.sboms).where(t.sboms.c.entry_uid == entry.uid)).all()
        if own:
            return entry.ref, list(own)
        refs = {
            str(v.resolved)
            for v in registry.relations(entry.ref)
            if v.type == "describedBy" and v.resolved is not None
        }
        rows: list[Any] = []
        if refs:
            rows = list(conn.execute(sa.select(t.sboms).where(t.sboms.c.ref.in_(sorted(refs)))))
        rows += [
            r
            for r in conn.execute(
                sa.select(t.sboms).where(
                    t.sboms.c.linked_ref.in_([str(entry.ref), str(entry.ref.unversioned)])
                )
            )
            if r.ref not in refs
        ]
    if namespaces is not None:
        rows = [r for r in rows if r.namespace in namespaces]
    return entry.ref, rows


def summary(
    index: SecurityIndex, ref: str, namespaces: Sequence[str] | None = None
) -> dict[str, int]:
    _, rows = sbom_rows_for(index, ref, namespaces)
    counts = empty_summary()
    ids = [r.id for r in rows]
    with index.read() as conn:
        for i in range(0, len(ids), CHUNK):
            for f in conn.execute(
                sa.select(
                    t.findings.c.severity, t.findings.c.status, t.findings.c.fixed_version
                ).where(t.findings.c.sbom_id.in_(ids[i : i + CHUNK]))
            ):
                count_into(counts, f.severity, f.status, f.fixed_version)
    return counts


def portfolio(index: SecurityIndex, namespaces: Sequence[str] | None = None) -> dict[str, Any]:
    """Counts per namespace over every SBOM, plus SBOM and unlinked SBOM counts."""
    out: dict[str, dict[str, int]] = {}
    with index.read() as conn:
        stmt = (
            sa.select(
                t.sboms.c.namespace,
                t.findings.c.severity,
                t.findings.c.status,
                (t.findings.c.fixed_version.is_not(None)).label("has_fix"),
                sa.func.count().label("n"),
            )
            .select_from(t.findings.join(t.sboms, t.sboms.c.id == t.findings.c.sbom_id))
            .group_by(
                t.sboms.c.namespace,
                t.findings.c.severity,
                t.findings.c.status,
                t.findings.c.fixed_version.is_not(None),
            )
        )
        sbom_stmt = sa.select(
            t.sboms.c.namespace,
            sa.func.count().label("n"),
            sa.func.sum(sa.case((t.sboms.c.linked_ref.is_(None), 1), else_=0)).label("unlinked"),
        ).group_by(t.sboms.c.namespace)
        if namespaces is not None:
            stmt = stmt.where(t.sboms.c.namespace.in_(list(namespaces) or [""]))
            sbom_stmt = sbom_stmt.where(t.sboms.c.namespace.in_(list(namespaces) or [""]))
        for r in conn.execute(stmt):
            counts = out.setdefault(r.namespace, {**empty_summary(), "sboms": 0, "unlinked": 0})
            n = int(r.n)
            if r.status in SUPPRESSING:
                counts["suppressed"] += n
                continue
            counts[r.severity if r.severity in SEVERITIES else "unknown"] += n
            if r.has_fix:
                counts["unpatched"] += n
        for r in conn.execute(sbom_stmt):
            counts = out.setdefault(r.namespace, {**empty_summary(), "sboms": 0, "unlinked": 0})
            counts["sboms"] = int(r.n)
            counts["unlinked"] = int(r.unlinked or 0)
    return {"namespaces": dict(sorted(out.items()))}


_FINDING_COLS = (
    t.findings.c.id,
    t.findings.c.status,
    t.findings.c.severity,
    t.findings.c.score,
    t.findings.c.matched_range,
    t.findings.c.fixed_version,
    t.findings.c.created_at,
    t.findings.c.updated_at,
    t.components.c.name,
    t.components.c.version,
    t.components.c.purl,
    t.components.c.key,
    t.advisories.c.advisory_id,
    t.advisories.c.ref.label("advisory_ref"),
    t.advisories.c.summary,
    t.sboms.c.ref.label("sbom_ref"),
    t.sboms.c.linked_ref,
    t.sboms.c.namespace.label("sbom_namespace"),
)
_FINDING_FROM = (
    t.findings.join(t.components, t.components.c.id == t.findings.c.component_id)
    .join(t.advisories, t.advisories.c.id == t.findings.c.advisory_pk)
    .join(t.sboms, t.sboms.c.id == t.findings.c.sbom_id)
)


def finding_dict(r: Any) -> dict[str, Any]:
    return {
        "id": int(r.id),
        "advisory": r.advisory_id,
        "advisoryRef": r.advisory_ref,
        "summary": r.summary,
        "component": {"name": r.name, "version": r.version, "purl": r.purl, "key": r.key},
        "sbom": r.sbom_ref,
        "artifact": r.linked_ref,
        "severity": r.severity,
        "score": r.score,
        "status": r.status,
        "suppressed": r.status in SUPPRESSING,
        "matchedRange": r.matched_range,
        "fixedVersion": r.fixed_version,
        "updatedAt": r.updated_at,
    }


def findings(
    index: SecurityIndex,
    ref: str,
    namespaces: Sequence[str] | None = None,
    *,
    include_suppressed: bool = True,
) -> list[dict[str, Any]]:
    _, rows = sbom_rows_for(index, ref, namespaces)
    ids = [r.id for r in rows]
    out: list[dict[str, Any]] = []
    with index.read() as conn:
        for i in range(0, len(ids), CHUNK):
            stmt = (
                sa.select(*_FINDING_COLS)
                .select_from(_FINDING_FROM)
                .where(t.findings.c.sbom_id.in_(ids[i : i + CHUNK]))
            )
            out.extend(finding_dict(r) for r in conn.execute(stmt))
    if not include_suppressed:
        out = [f for f in out if not f["suppressed"]]
    order = {s: i for i, s in enumerate(("critical", "high", "medium", "low", "unknown"))}
    out.sort(
        key=lambda f: (f["suppressed"], order.get(f["severity"], 9), -(f["score"] or 0), f["id"])
    )
    return out


def finding(
    index: SecurityIndex, finding_id: int, namespaces: Sequence[str] | None = None
) -> dict[str, Any]:
    from hyper_registry.kinds.security.triage import history

    with index.read() as conn:
        r = conn.execute(
            sa.select(*_FINDING_COLS)
            .select_from(_FINDING_FROM)
            .where(t.findings.c.id == finding_id)
        ).first()
        if r is None or (namespaces is not None and r.sbom_namespace not in namespaces):
            raise NotFound(f"finding {finding_id} not found")
        out = finding_dict(r)
        found = {
            "state": "open",
            "actor": "registry",
            "at": r.created_at,
            "justification": None,
            "statement": None,
            "source": "match",
        }
        out["history"] = [found, *history(conn, finding_id)]
    return out


def advisories_for(index: SecurityIndex, vulnerability: str) -> list[Any]:
    """Stored advisories known by this id, alias or reference (withdrawn ones too)."""
    key = alias_key(vulnerability)
    with index.read() as conn:
        return list(
            conn.execute(
                sa.select(t.advisories)
                .select_from(
                    t.advisories.join(
                        t.advisory_aliases, t.advisory_aliases.c.advisory_pk == t.advisories.c.id
                    )
                )
                .where(t.advisory_aliases.c.alias_key == key)
                .order_by(t.advisories.c.id)
            )
        )


def advisory_dict(conn: sa.Connection, row: Any) -> dict[str, Any]:
    aliases = sorted(
        r.alias_key
        for r in conn.execute(
            sa.select(t.advisory_aliases.c.alias_key).where(
                t.advisory_aliases.c.advisory_pk == row.id
            )
        )
        if not r.alias_key.startswith("REF:")
    )
    return {
        "id": row.advisory_id,
        "ref": row.ref if row.sbom_id is None else None,
        "aliases": aliases,
        "summary": row.summary,
        "severity": row.severity,
        "score": row.score,
        "withdrawn": row.withdrawn,
        "notes": orjson.loads(row.notes),
    }


def sbom_report(index: SecurityIndex, ref: str) -> dict[str, Any]:
    """What an SBOM holds in the index: counts, notes, link, summary of its findings."""
    with index.read() as conn:
        row = conn.execute(sa.select(t.sboms).where(t.sboms.c.ref == ref)).first()
        if row is None:
            raise NotFound(f"{ref} is not indexed")
        matchable = conn.execute(
            sa.select(sa.func.count()).where(
                (t.components.c.sbom_id == row.id) & t.components.c.matchable
            )
        ).scalar_one()
    return {
        "format": row.format,
        "specVersion": row.spec_version,
        "digest": row.digest,
        "components": row.component_count,
        "unmatchable": row.component_count - int(matchable),
        "notes": orjson.loads(row.notes),
        "summary": summary(index, ref),
    }
