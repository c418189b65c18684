"""Matching and findings: the part of the security index that decides what is affected.

Candidates come from the ``(ecosystem, package)`` indexes of ``security_components`` and
``security_affected``; ``matching.match`` (``versions.match``) decides; findings are
written, updated or dropped in bulk, and VEX statements applied to the new ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from hyper_registry.core.ids import timestamp
from hyper_registry.kinds.security import matching
from hyper_registry.kinds.security import tables as t
from hyper_registry.kinds.security.parsed import Affected
from hyper_registry.kinds.security.records import (
    CHUNK,
    OPEN,
    SUPPRESSING,
    NewFinding,
    Outcome,
)
from hyper_registry.kinds.security.records import (
    COMPONENT_COLS as _COMPONENT_COLS,
)
from hyper_registry.kinds.security.records import chunks as _chunks
from hyper_registry.kinds.security.records import component_from_row as _component


class FindingsMixin:
    """Matching methods of :class:`~hyper_registry.kinds.security.index.SecurityIndex`."""

    def match_sboms(self, conn: sa.Connection, sbom_ids: Sequence[int], actor: str) -> Outcome:
        """Match the components of these SBOMs against every stored advisory."""
        comps: list[Any] = []
        for chunk in _chunks(list(sbom_ids)):
            comps.extend(
                conn.execute(
                    sa.select(*_COMPONENT_COLS).where(
                        t.components.c.sbom_id.in_(chunk)
                        & t.components.c.matchable
                        & t.components.c.package.is_not(None)
                    )
                ).all()
            )
        by_key: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for c in comps:
            by_key[(c.ecosystem, c.package)].append(c)
        packages = sorted({k[1] for k in by_key})
        found: dict[tuple[int, int], matching.Hit] = {}
        for chunk in _chunks(packages):
            rows = conn.execute(
                sa.select(
                    t.affected.c.advisory_pk,
                    t.affected.c.ecosystem,
                    t.affected.c.package,
                    t.affected.c.data,
                )
                .select_from(
                    t.affected.join(t.advisories, t.advisories.c.id == t.affected.c.advisory_pk)
                )
                .where(
                    t.affected.c.package.in_(chunk)
                    & t.advisories.c.withdrawn.is_(None)
                    & t.advisories.c.sbom_id.is_(None)
                )
            ).all()
            for row in rows:
                candidates = by_key.get((row.ecosystem, row.package))
                if not candidates:
                    continue
                item = Affected.model_validate_json(row.data)
                for c in candidates:
                    pair = (c.id, row.advisory_pk)
                    if pair in found:
                        continue
                    hit = matching.match(_component(c), item)
                    if hit is not None:
                        found[pair] = hit
        return self._write_findings(conn, found, {c.id: c.sbom_id for c in comps}, {}, actor)

    def _match_advisories(self, conn: sa.Connection, pks: Sequence[int], actor: str) -> Outcome:
        """Bring the findings of these advisories in line with the stored components."""
        if not pks:
            return Outcome()
        affected_rows: list[Any] = []
        scoped: dict[int, int] = {}
        for chunk in _chunks(list(pks)):
            affected_rows.extend(
                conn.execute(
                    sa.select(
                        t.affected.c.advisory_pk,
                        t.affected.c.ecosystem,
                        t.affected.c.package,
                        t.affected.c.data,
                    ).where(t.affected.c.advisory_pk.in_(chunk))
                ).all()
            )
            for r in conn.execute(
                sa.select(t.advisories.c.id, t.advisories.c.sbom_id).where(
                    t.advisories.c.id.in_(chunk) & t.advisories.c.sbom_id.is_not(None)
                )
            ):
                scoped[r.id] = r.sbom_id
        global_rows = [r for r in affected_rows if r.advisory_pk not in scoped]
        scoped_rows = [r for r in affected_rows if r.advisory_pk in scoped]
        by_key: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for r in global_rows:
            by_key[(r.ecosystem, r.package)].append(r)
        comps: dict[int, Any] = {}
        for chunk in _chunks(sorted({k[1] for k in by_key})):
            for c in conn.execute(
                sa.select(*_COMPONENT_COLS).where(
                    t.components.c.package.in_(chunk) & t.components.c.matchable
                )
            ):
                comps[c.id] = c
        for sbom_id in set(scoped.values()):
            for c in conn.execute(
                sa.select(*_COMPONENT_COLS).where(t.components.c.sbom_id == sbom_id)
            ):
                comps[c.id] = c
        parsed: dict[int, Affected] = {}
        found: dict[tuple[int, int], matching.Hit] = {}
        for c in comps.values():
            rows = [*by_key.get((c.ecosystem, c.package), ())]
            rows += [r for r in scoped_rows if scoped[r.advisory_pk] == c.sbom_id]
            for r in rows:
                pair = (c.id, r.advisory_pk)
                if pair in found:
                    continue
                key = id(r)
                item = parsed.get(key)
                if item is None:
                    item = parsed[key] = Affected.model_validate_json(r.data)
                hit = matching.match(_component(c), item)
                if hit is not None:
                    found[pair] = hit
        existing: dict[tuple[int, int], Any] = {}
        for chunk in _chunks(list(pks)):
            for f in conn.execute(
                sa.select(
                    t.findings.c.id,
                    t.findings.c.component_id,
                    t.findings.c.advisory_pk,
                    t.findings.c.matched_range,
                    t.findings.c.fixed_version,
                    t.findings.c.severity,
                    t.findings.c.score,
                ).where(t.findings.c.advisory_pk.in_(chunk))
            ):
                existing[(f.component_id, f.advisory_pk)] = f
        return self._write_findings(
            conn, found, {c.id: c.sbom_id for c in comps.values()}, existing, actor
        )

    def _write_findings(
        self,
        conn: sa.Connection,
        found: dict[tuple[int, int], matching.Hit],
        sbom_of: dict[int, int],
        existing: dict[tuple[int, int], Any],
        actor: str,
    ) -> Outcome:
        out = Outcome()
        stale = [row.id for pair, row in existing.items() if pair not in found]
        self._delete_findings(conn, stale)
        out.removed_findings = len(stale)
        advisories = self._advisory_facts(conn, {pair[1] for pair in found})
        now = timestamp()
        inserts: list[dict[str, Any]] = []
        for pair, hit in found.items():
            comp_id, adv_pk = pair
            adv = advisories[adv_pk]
            old = existing.get(pair)
            values = {
                "matched_range": hit.matched_range,
                "fixed_version": hit.fixed_version,
                "severity": adv.severity,
                "score": adv.score,
            }
            if old is not None:
                if any(getattr(old, k) != v for k, v in values.items()):
                    conn.execute(
                        t.findings.update()
                        .where(t.findings.c.id == old.id)
                        .values(**values, updated_at=now)
                    )
                continue
            inserts.append(
                {
                    "component_id": comp_id,
                    "advisory_pk": adv_pk,
                    "sbom_id": sbom_of[comp_id],
                    "status": OPEN,
                    **values,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        if not inserts:
            return out
        new_ids: list[int] = []
        stmt = t.findings.insert().returning(t.findings.c.id)
        for i in range(0, len(inserts), CHUNK):
            new_ids.extend(int(r.id) for r in conn.execute(stmt, inserts[i : i + CHUNK]))
        from hyper_registry.kinds.security.triage import retriage

        retriage(conn, new_ids, actor=actor, only_with_statements=True)
        out.created_findings = len(new_ids)
        out.critical = self._describe_new(conn, new_ids)
        return out

    def _describe_new(self, conn: sa.Connection, ids: Sequence[int]) -> list[NewFinding]:
        """New findings that are critical and not suppressed, for the change-log event."""
        out: list[NewFinding] = []
        for chunk in _chunks(list(ids)):
            rows = conn.execute(
                sa.select(
                    t.findings.c.id,
                    t.findings.c.sbom_id,
                    t.findings.c.severity,
                    t.findings.c.score,
                    t.findings.c.fixed_version,
                    t.findings.c.status,
                    t.components.c.purl,
                    t.components.c.name,
                    t.components.c.version,
                    t.advisories.c.advisory_id,
                )
                .select_from(
                    t.findings.join(
                        t.components, t.components.c.id == t.findings.c.component_id
                    ).join(t.advisories, t.advisories.c.id == t.findings.c.advisory_pk)
                )
                .where(t.findings.c.id.in_(chunk) & (t.findings.c.severity == "critical"))
            ).all()
            for r in rows:
                if r.status in SUPPRESSING:
                    continue
                label = r.purl or (f"{r.name}@{r.version}" if r.version else r.name)
                out.append(
                    NewFinding(
                        r.id, r.sbom_id, label, r.advisory_id, r.severity, r.score, r.fixed_version
                    )
                )
        return out

    def _advisory_facts(self, conn: sa.Connection, pks: Iterable[int]) -> dict[int, Any]:
        out: dict[int, Any] = {}
        for chunk in _chunks(sorted(pks)):
            for r in conn.execute(
                sa.select(t.advisories.c.id, t.advisories.c.severity, t.advisories.c.score).where(
                    t.advisories.c.id.in_(chunk)
                )
            ):
                out[r.id] = r
        return out

    def _delete_findings(self, conn: sa.Connection, ids: Sequence[int]) -> None:
        for chunk in _chunks(list(ids)):
            conn.execute(
                t.finding_history.delete().where(t.finding_history.c.finding_id.in_(chunk))
            )
            conn.execute(t.findings.delete().where(t.findings.c.id.in_(chunk)))
