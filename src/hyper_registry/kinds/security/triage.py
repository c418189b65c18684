"""VEX and triage: statements that suppress or confirm findings, and each finding's history.

A statement says ``not_affected`` (with a justification), ``affected``, ``fixed`` or
``under_investigation`` about one vulnerability (any of its ids or aliases) in an
artifact (a registry reference: every SBOM describing it) or in a component (a purl, or
a component key within one SBOM). It comes from CycloneDX VEX inside an SBOM, an OpenVEX
document, a ``vex`` entry, or the API/CLI. A finding takes the state of the newest
statement that applies to it; ``open`` when none does. ``not_affected`` and ``fixed``
suppress a finding. Every change of state is kept with its actor, time and reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from hyper_registry.core.errors import Invalid
from hyper_registry.core.ids import timestamp
from hyper_registry.core.ref import Ref
from hyper_registry.kinds.security import tables as t
from hyper_registry.kinds.security.parsed import VexStatement

if TYPE_CHECKING:
    from hyper_registry.kinds.security.index import SecurityIndex

STATES = ("not_affected", "affected", "fixed", "under_investigation")
OPEN = "open"
CHUNK = 500


def _scope_of(product: str) -> str:
    if product.startswith("pkg:"):
        return "component"
    if "/" in product and ":" in product.split("/", 1)[0]:
        try:
            Ref.parse(product)
        except Invalid:
            return "component"
        return "artifact"
    return "component"


def check_statement(status: str, justification: str | None, statement: str | None) -> None:
    if status not in STATES:
        raise Invalid.at(
            ("status",), f"status {status!r} is not one of: {', '.join(STATES)}", "bad-choice"
        )
    if status == "not_affected" and not (justification or statement):
        raise Invalid.at(
            ("justification",),
            "a not_affected statement needs a justification or a statement saying why",
            "unjustified",
        )


def add_statements(
    index: SecurityIndex,
    conn: sa.Connection,
    statements: Sequence[VexStatement],
    *,
    actor: str,
    source: str,
    entry_uid: str | None = None,
    sbom_id: int | None = None,
    artifact: str | None = None,
) -> list[int]:
    """Store statements and re-triage the findings they touch; returns those finding ids."""
    from hyper_registry.kinds.security.index import alias_key

    now = timestamp()
    rows: list[dict[str, Any]] = []
    keys: set[str] = set()
    for s in statements:
        key = alias_key(s.vulnerability)
        keys.add(key)
        products = list(s.products) or ([artifact] if artifact else [])
        for product in products:
            scope = _scope_of(product)
            rows.append(
                {
                    "vuln_key": key,
                    "scope": scope,
                    "target": product[:2048],
                    "sbom_id": sbom_id if scope == "component" else None,
                    "status": s.status,
                    "justification": s.justification[:256] if s.justification else None,
                    "statement": s.statement,
                    "actor": actor[:253],
                    "at": now,
                    "source": source[:600],
                    "entry_uid": entry_uid,
                }
            )
    if rows:
        conn.execute(t.vex_statements.insert(), rows)
    touched = findings_for_keys(conn, keys)
    retriage(conn, touched, actor=actor)
    return touched


def findings_for_keys(conn: sa.Connection, keys: set[str]) -> list[int]:
    if not keys:
        return []
    return [
        int(r.id)
        for r in conn.execute(
            sa.select(t.findings.c.id)
            .select_from(
                t.findings.join(
                    t.advisory_aliases,
                    t.advisory_aliases.c.advisory_pk == t.findings.c.advisory_pk,
                )
            )
            .where(t.advisory_aliases.c.alias_key.in_(sorted(keys)))
            .distinct()
        )
    ]


def drop_statements(conn: sa.Connection, entry_uid: str, *, actor: str) -> None:
    keys = {
        r.vuln_key
        for r in conn.execute(
            sa.select(t.vex_statements.c.vuln_key).where(t.vex_statements.c.entry_uid == entry_uid)
        )
    }
    conn.execute(t.vex_statements.delete().where(t.vex_statements.c.entry_uid == entry_uid))
    retriage(conn, findings_for_keys(conn, keys), actor=actor)


def _same(target: str, ref_text: str | None) -> bool:
    if not ref_text:
        return False
    try:
        want, have = Ref.parse(target), Ref.parse(ref_text)
    except Invalid:
        return False
    return want.unversioned == have.unversioned and want.version in (None, have.version)


def _purl_base(purl: str) -> str:
    return purl.split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[0]


def applies(s: Any, f: Any) -> bool:
    if s.scope == "artifact":
        return _same(s.target, f.linked_ref) or _same(s.target, f.sbom_ref)
    if s.sbom_id is not None and s.sbom_id != f.sbom_id:
        return False
    if s.target in (f.purl, f.key):
        return True
    return bool(f.purl) and "@" not in s.target and _purl_base(f.purl) == s.target


def retriage(
    conn: sa.Connection,
    finding_ids: Sequence[int],
    *,
    actor: str,
    only_with_statements: bool = False,
) -> None:
    """Give each finding the state of the newest statement that applies (``open`` if none)."""
    if not finding_ids:
        return
    findings: list[Any] = []
    for i in range(0, len(finding_ids), CHUNK):
        findings.extend(
            conn.execute(
                sa.select(
                    t.findings.c.id,
                    t.findings.c.status,
                    t.findings.c.advisory_pk,
                    t.findings.c.sbom_id,
                    t.components.c.purl,
                    t.components.c.key,
                    t.sboms.c.linked_ref,
                    t.sboms.c.ref.label("sbom_ref"),
                )
                .select_from(
                    t.findings.join(
                        t.components, t.components.c.id == t.findings.c.component_id
                    ).join(t.sboms, t.sboms.c.id == t.findings.c.sbom_id)
                )
                .where(t.findings.c.id.in_(finding_ids[i : i + CHUNK]))
            ).all()
        )
    adv_pks = sorted({f.advisory_pk for f in findings})
    keys_of: dict[int, set[str]] = defaultdict(set)
    for i in range(0, len(adv_pks), CHUNK):
        for r in conn.execute(
            sa.select(t.advisory_aliases.c.advisory_pk, t.advisory_aliases.c.alias_key).where(
                t.advisory_aliases.c.advisory_pk.in_(adv_pks[i : i + CHUNK])
            )
        ):
            keys_of[r.advisory_pk].add(r.alias_key)
    all_keys = sorted(set().union(*keys_of.values())) if keys_of else []
    by_key: dict[str, list[Any]] = defaultdict(list)
    for i in range(0, len(all_keys), CHUNK):
        for s in conn.execute(
            sa.select(t.vex_statements).where(
                t.vex_statements.c.vuln_key.in_(all_keys[i : i + CHUNK])
            )
        ):
            by_key[s.vuln_key].append(s)
    if only_with_statements and not by_key:
        return
    now = timestamp()
    history: list[dict[str, Any]] = []
    for f in findings:
        candidates = [
            s for k in keys_of.get(f.advisory_pk, ()) for s in by_key.get(k, ()) if applies(s, f)
        ]
        best = max(candidates, key=lambda s: s.id) if candidates else None
        state = best.status if best is not None else OPEN
        if state == f.status:
            continue
        conn.execute(
            t.findings.update().where(t.findings.c.id == f.id).values(status=state, updated_at=now)
        )
        history.append(
            {
                "finding_id": f.id,
                "state": state,
                "actor": best.actor if best is not None else actor,
                "at": now,
                "justification": best.justification if best is not None else None,
                "statement": best.statement if best is not None else None,
                "source": best.source if best is not None else "statement withdrawn",
            }
        )
    if history:
        conn.execute(t.finding_history.insert(), history)


def history(conn: sa.Connection, finding_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(t.finding_history)
        .where(t.finding_history.c.finding_id == finding_id)
        .order_by(t.finding_history.c.id)
    ).all()
    return [
        {
            "state": r.state,
            "actor": r.actor,
            "at": r.at,
            "justification": r.justification,
            "statement": r.statement,
            "source": r.source,
        }
        for r in rows
    ]
