"""The security index: components, advisories and findings kept beside the entries.

``registry.extension(SecurityIndex)`` is the one instance per registry. Entries are
written by the pipeline; this index derives its rows from them, either inside the very
transaction that wrote the entry (``within``, used by the importers) or right after the
commit (a listener of the pipeline, for ``apply -f``, the entry API, streams; hooks.py).
Matching is incremental both ways: a new SBOM against the stored advisories of its
packages, a new or changed advisory against the stored components of its packages.
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from hyper_registry.core.errors import Unavailable
from hyper_registry.core.ids import timestamp
from hyper_registry.core.ref import Ref
from hyper_registry.kinds.security import matching
from hyper_registry.kinds.security import tables as t
from hyper_registry.kinds.security.findings import FindingsMixin
from hyper_registry.kinds.security.operations import OperationsMixin
from hyper_registry.kinds.security.parsed import Advisory, Component, Sbom
from hyper_registry.kinds.security.records import (
    CHUNK,
    OPEN,
    SEVERITIES,
    SUPPRESSING,
    NewFinding,
    Outcome,
    Owner,
    alias_key,
    severity_of,
)
from hyper_registry.kinds.security.records import chunks as _chunks
from hyper_registry.store.base import WriteResult

if TYPE_CHECKING:
    from hyper_registry.core.registry import Registry

__all__ = [
    "CHUNK",
    "OPEN",
    "SEVERITIES",
    "SUPPRESSING",
    "NewFinding",
    "Outcome",
    "Owner",
    "SecurityIndex",
    "alias_key",
    "severity_of",
]

log = logging.getLogger(__name__)


class SecurityIndex(FindingsMixin, OperationsMixin):
    """Storage, matching and triage of the security domain (see the module docstring)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.engine = registry.store.engine
        self._attached = False

    def attach(self, listener: Callable[[Sequence[WriteResult]], None]) -> None:
        """Subscribe ``listener`` to the registry's commits, once per registry."""
        if not self._attached:
            self.registry.subscribe(listener)
            self._attached = True

    def close(self) -> None:
        """Nothing to release: the index borrows the store's engine."""

    @contextmanager
    def tx(self) -> Iterator[sa.Connection]:
        try:
            with (
                self.engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn,
                conn.begin(),
            ):
                yield conn
        except OperationalError as exc:
            raise Unavailable("the database is unavailable") from exc

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except OperationalError as exc:
            raise Unavailable("the database is unavailable") from exc

    # -- SBOMs -------------------------------------------------------------------------

    def has_entry(self, conn: sa.Connection, table: sa.Table, uid: str) -> bool:
        return (
            conn.execute(sa.select(table.c.id).where(table.c.entry_uid == uid)).first() is not None
        )

    def add_sbom(
        self,
        conn: sa.Connection,
        owner: Owner,
        sbom: Sbom,
        *,
        linked: str | None,
        digest: str,
        raw: bytes | None = None,
        actor: str = "registry",
        match: bool = True,
        fresh: bool = False,
    ) -> Outcome:
        """Store an SBOM's components and dependencies, then match them (replacing any
        earlier rows of the same entry). ``match=False`` leaves the matching to a later
        :meth:`match_sboms` over many SBOMs at once; ``fresh`` says no rows exist yet."""
        if not fresh:
            self.drop_sbom(conn, owner.uid)
        notes = [n.model_dump() for n in sbom.notes]
        [sbom_id] = self.add_sboms(conn, [NewSbom(owner, sbom, linked, digest, raw)])
        out = Outcome(sbom_id=sbom_id, notes=notes)
        if match:
            out.merge(self.match_sboms(conn, [sbom_id], actor))
        if sbom.vulnerabilities:
            out.merge(self._embedded(conn, owner, sbom_id, sbom, actor))
        if sbom.vex:
            from hyper_registry.kinds.security.triage import add_statements

            add_statements(
                self,
                conn,
                sbom.vex,
                actor=actor,
                source=str(owner.ref),
                entry_uid=owner.uid,
                sbom_id=sbom_id,
            )
        return out

    def add_sboms(self, conn: sa.Connection, items: Sequence[NewSbom]) -> list[int]:
        """Store the SBOM, component and dependency rows of many SBOMs whose entries have
        none (yet, or any more) in a few statements; the ids come back in the order given.

        Matching, embedded vulnerabilities and VEX statements are not handled here:
        :meth:`add_sbom` does them for one SBOM; a batch calls :meth:`match_sboms` once.
        """
        if not items:
            return []
        now = timestamp()
        params = [
            {
                "entry_uid": it.owner.uid,
                "ref": str(it.owner.ref),
                "revision": it.owner.revision,
                "namespace": it.owner.ref.namespace,
                "format": it.sbom.format,
                "spec_version": it.sbom.spec_version[:16],
                "digest": it.digest,
                "described": (
                    orjson.dumps(it.sbom.described.model_dump(exclude_none=True)).decode()
                    if it.sbom.described
                    else None
                ),
                "linked_ref": it.linked,
                "component_count": len(it.sbom.components),
                "notes": orjson.dumps([n.model_dump() for n in it.sbom.notes]).decode(),
                "document": gzip.compress(it.raw, 6) if it.raw is not None else None,
                "created_at": now,
            }
            for it in items
        ]
        ids = [
            int(r[0])
            for r in conn.execute(
                t.sboms.insert().returning(t.sboms.c.id, sort_by_parameter_order=True), params
            )
        ]
        components = [
            _component_row(sbom_id, c)
            for sbom_id, it in zip(ids, items, strict=True)
            for c in it.sbom.components
        ]
        for i in range(0, len(components), CHUNK):
            conn.execute(t.components.insert(), components[i : i + CHUNK])
        deps = [
            {
                "sbom_id": sbom_id,
                "source": d.source[:1024],
                "target": d.target[:1024],
                "relationship": d.relationship[:64],
            }
            for sbom_id, it in zip(ids, items, strict=True)
            for d in it.sbom.dependencies
        ]
        for i in range(0, len(deps), CHUNK):
            conn.execute(t.dependencies.insert(), deps[i : i + CHUNK])
        return ids

    def drop_sbom(self, conn: sa.Connection, uid: str) -> None:
        row = conn.execute(sa.select(t.sboms.c.id).where(t.sboms.c.entry_uid == uid)).first()
        if row is None:
            return
        sbom_id = row.id
        ids = [
            r.id
            for r in conn.execute(sa.select(t.findings.c.id).where(t.findings.c.sbom_id == sbom_id))
        ]
        self._delete_findings(conn, ids)
        conn.execute(t.components.delete().where(t.components.c.sbom_id == sbom_id))
        conn.execute(t.dependencies.delete().where(t.dependencies.c.sbom_id == sbom_id))
        conn.execute(t.vex_statements.delete().where(t.vex_statements.c.sbom_id == sbom_id))
        scoped = [
            r.id
            for r in conn.execute(
                sa.select(t.advisories.c.id).where(t.advisories.c.sbom_id == sbom_id)
            )
        ]
        self._delete_advisories(conn, scoped)
        conn.execute(t.sboms.delete().where(t.sboms.c.id == sbom_id))

    def _embedded(
        self, conn: sa.Connection, owner: Owner, sbom_id: int, sbom: Sbom, actor: str
    ) -> Outcome:
        """Vulnerabilities an SBOM carries itself: advisories scoped to that SBOM."""
        out = Outcome()
        for adv in sbom.vulnerabilities:
            name = f"sbom-{sbom_id}-{adv.id}".lower()[:253]
            pk = self._upsert_advisory(conn, owner, adv, name=name, sbom_id=sbom_id)
            out.merge(self._match_advisories(conn, [pk], actor))
        return out

    # -- advisories --------------------------------------------------------------------

    def add_advisory(
        self, conn: sa.Connection, owner: Owner, adv: Advisory, *, actor: str = "registry"
    ) -> Outcome:
        """Store (or replace) an advisory and match it against every stored component."""
        pk = self._upsert_advisory(conn, owner, adv, name=owner.ref.name, sbom_id=None)
        out = self._match_advisories(conn, [pk], actor)
        out.advisory_pk = pk
        return out

    def add_advisories(
        self, conn: sa.Connection, items: Sequence[tuple[Owner, Advisory]], *, actor: str
    ) -> Outcome:
        """Many advisories in one transaction, matched together (the bulk import path)."""
        pks = self._upsert_advisories(
            conn, [(owner, adv, owner.ref.name, None) for owner, adv in items]
        )
        return self._match_advisories(conn, pks, actor)

    def _upsert_advisory(
        self, conn: sa.Connection, owner: Owner, adv: Advisory, *, name: str, sbom_id: int | None
    ) -> int:
        return self._upsert_advisories(conn, [(owner, adv, name, sbom_id)])[0]

    def _upsert_advisories(
        self, conn: sa.Connection, items: Sequence[tuple[Owner, Advisory, str, int | None]]
    ) -> list[int]:
        """Store or replace advisories (rows, aliases, affected packages) in a few statements."""
        now = timestamp()
        rows: list[dict[str, Any]] = []
        for owner, adv, name, sbom_id in items:
            score, band, notes = severity_of(adv)
            rows.append(
                {
                    "entry_uid": owner.uid,
                    "ref": str(owner.ref),
                    "revision": owner.revision,
                    "namespace": owner.ref.namespace,
                    "name": name,
                    "advisory_id": adv.id[:128],
                    "sbom_id": sbom_id,
                    "summary": adv.summary,
                    "severity": band,
                    "score": score,
                    "withdrawn": adv.withdrawn[:40] if adv.withdrawn else None,
                    "notes": orjson.dumps([n.model_dump() for n in adv.notes] + notes).decode(),
                    "updated_at": now,
                }
            )
        pk_of: dict[tuple[str, str], int] = {}
        names = sorted({r["name"] for r in rows})
        for chunk in _chunks(names):
            for r in conn.execute(
                sa.select(t.advisories.c.id, t.advisories.c.namespace, t.advisories.c.name).where(
                    t.advisories.c.name.in_(chunk)
                )
            ):
                pk_of[(r.namespace, r.name)] = int(r.id)
        existing = [r for r in rows if (r["namespace"], r["name"]) in pk_of]
        fresh = [r for r in rows if (r["namespace"], r["name"]) not in pk_of]
        if existing:
            old = [pk_of[(r["namespace"], r["name"])] for r in existing]
            conn.execute(
                t.advisories.update().where(t.advisories.c.id == sa.bindparam("pk")),
                [
                    {**{k: v for k, v in r.items() if k not in ("namespace", "name")}, "pk": pk}
                    for r, pk in zip(existing, old, strict=True)
                ],
            )
            for chunk in _chunks(old):
                conn.execute(
                    t.advisory_aliases.delete().where(t.advisory_aliases.c.advisory_pk.in_(chunk))
                )
                conn.execute(t.affected.delete().where(t.affected.c.advisory_pk.in_(chunk)))
        insert = t.advisories.insert().returning(
            t.advisories.c.id, t.advisories.c.namespace, t.advisories.c.name
        )
        for chunk in _chunks(fresh):
            for r in conn.execute(insert, list(chunk)):
                pk_of[(r.namespace, r.name)] = int(r.id)
        pks: list[int] = []
        aliases: list[dict[str, Any]] = []
        affected_rows: list[dict[str, Any]] = []
        for (owner, adv, name, sbom_id), row in zip(items, rows, strict=True):
            pk = pk_of[(row["namespace"], name)]
            pks.append(pk)
            keys = {alias_key(adv.id), *(alias_key(a) for a in adv.aliases)}
            if sbom_id is None:
                keys.add(alias_key(f"security:{owner.ref.namespace}/{owner.ref.name}"))
            aliases.extend({"advisory_pk": pk, "alias_key": k} for k in keys)
            if adv.withdrawn:
                continue
            for item in adv.affected:
                key = matching.affected_key(item)
                if key is None and item.ref is None:
                    continue
                eco, pkg = key if key is not None else ("", "")
                affected_rows.append(
                    {
                        "advisory_pk": pk,
                        "ecosystem": eco[:64],
                        "package": pkg,
                        "data": item.model_dump_json(exclude_defaults=True),
                    }
                )
        for chunk in _chunks(aliases):
            conn.execute(t.advisory_aliases.insert(), list(chunk))
        for chunk in _chunks(affected_rows):
            conn.execute(t.affected.insert(), list(chunk))
        return pks

    def drop_advisory(self, conn: sa.Connection, uid: str) -> int:
        ids = [
            r.id
            for r in conn.execute(
                sa.select(t.advisories.c.id).where(
                    (t.advisories.c.entry_uid == uid) & t.advisories.c.sbom_id.is_(None)
                )
            )
        ]
        return self._delete_advisories(conn, ids)

    def _delete_advisories(self, conn: sa.Connection, pks: Sequence[int]) -> int:
        removed = 0
        for pk in pks:
            ids = [
                r.id
                for r in conn.execute(
                    sa.select(t.findings.c.id).where(t.findings.c.advisory_pk == pk)
                )
            ]
            removed += len(ids)
            self._delete_findings(conn, ids)
            conn.execute(t.affected.delete().where(t.affected.c.advisory_pk == pk))
            conn.execute(t.advisory_aliases.delete().where(t.advisory_aliases.c.advisory_pk == pk))
            conn.execute(t.advisories.delete().where(t.advisories.c.id == pk))
        return removed

    # -- after commit ------------------------------------------------------------------

    def announce(self, outcome: Outcome, *, actor: str) -> None:
        """Append a ``security.critical`` change-log row per new critical finding."""
        if not outcome.critical:
            return
        sboms: dict[int, Any] = {}
        with self.read() as conn:
            ids = sorted({f.sbom_id for f in outcome.critical})
            for r in conn.execute(
                sa.select(t.sboms.c.id, t.sboms.c.ref, t.sboms.c.linked_ref).where(
                    t.sboms.c.id.in_(ids)
                )
            ):
                sboms[r.id] = r
        for f in outcome.critical:
            s = sboms.get(f.sbom_id)
            if s is None:
                continue
            target = Ref.parse(s.linked_ref) if s.linked_ref else Ref.parse(s.ref)
            try:
                self.registry.store.record(
                    actor=actor,
                    op="security.critical",
                    ref=str(target),
                    kind=target.kind,
                    namespace=Ref.parse(s.ref).namespace,
                    detail={
                        "artifact": s.linked_ref,
                        "sbom": s.ref,
                        "component": f.component,
                        "advisory": f.advisory_id,
                        "score": f.score,
                        "fixedVersion": f.fixed_version,
                        "finding": f.id,
                    },
                )
            except Exception:  # an event lost must not undo the import
                log.exception("could not record a security.critical event")


@dataclass(frozen=True)
class NewSbom:
    """An SBOM to store for the first time (see :meth:`SecurityIndex.add_sboms`)."""

    owner: Owner
    sbom: Sbom
    linked: str | None
    digest: str
    raw: bytes | None


def _component_row(sbom_id: int, c: Component) -> dict[str, Any]:
    key = matching.component_key(c)
    detail = {
        k: v
        for k, v in {
            "licenses": c.licenses,
            "hashes": c.hashes,
            "supplier": c.supplier,
            "parent": c.parent,
            "group": getattr(c, "group", None),
        }.items()
        if v
    }
    return {
        "sbom_id": sbom_id,
        "key": c.key[:1024],
        "name": c.name[:1024],
        "version": c.version[:256] if c.version else None,
        "purl": c.purl[:2048] if c.purl else None,
        "purl_type": c.purl_type[:64] if c.purl_type else None,
        "purl_namespace": c.purl_namespace[:1024] if c.purl_namespace else None,
        "purl_name": c.purl_name[:1024] if c.purl_name else None,
        "ecosystem": key[0][:64] if key else None,
        "package": key[1] if key else None,
        "cpe": c.cpe[:1024] if c.cpe else None,
        "detail": orjson.dumps(detail).decode() if detail else None,
        "matchable": bool(c.matchable and key is not None),
    }
