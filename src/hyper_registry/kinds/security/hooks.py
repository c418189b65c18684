"""Keeping the index in step with the entries, one batch per commit.

The index listens to the write pipeline (``Registry.subscribe``): after each commit it
gets the results that changed something and indexes the ``security`` ones together, in
one transaction: every SBOM of the batch is stored, then all their components are matched
at once; advisories are stored and matched together. Entries written through any path
(``apply -f``, the entry API, the demo loader, a stream) reach the index this way. Imports
index inside their own transaction, so here their rows are found already in place (same
entry and revision) and skipped.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import orjson
import sqlalchemy as sa

from hyper_registry.core.envelope import Entry
from hyper_registry.core.errors import HyperRegistryError
from hyper_registry.kinds.security import tables as t
from hyper_registry.kinds.security.convert import advisory_from_spec
from hyper_registry.kinds.security.index import NewSbom, Outcome, Owner, SecurityIndex
from hyper_registry.kinds.security.parsed import Advisory, Note, Sbom, VexStatement
from hyper_registry.kinds.security.sbom import SbomSpec
from hyper_registry.kinds.security.spec import SecuritySpec
from hyper_registry.kinds.security.vex import VexSpec
from hyper_registry.kinds.security.vulnerability import VulnerabilitySpec
from hyper_registry.store.base import WriteResult

if TYPE_CHECKING:
    from hyper_registry.core.registry import Registry

log = logging.getLogger(__name__)
HOOK_ACTOR = "registry"


def attach(registry: Registry) -> None:
    """The kind's ``initialize`` operation: start listening to commits (once)."""
    registry.extension(SecurityIndex).attach(lambda results: on_commit(registry, results))


def on_commit(registry: Registry, results: Sequence[WriteResult]) -> None:
    entries = [
        (r.outcome, r.entry) for r in results if r.ref.kind == "security" and r.entry is not None
    ]
    if not entries:
        return
    index = registry.extension(SecurityIndex)
    deleted = [e for outcome, e in entries if outcome == "deleted"]
    written = [e for outcome, e in entries if outcome != "deleted"]
    if deleted:
        _deleted(registry, index, deleted)
    if written:
        _written(registry, index, written)


def _deleted(registry: Registry, index: SecurityIndex, entries: list[Entry]) -> None:
    from hyper_registry.kinds.security.triage import drop_statements

    with index.tx() as conn:
        for entry in entries:
            index.drop_sbom(conn, entry.uid)
            index.drop_advisory(conn, entry.uid)
            drop_statements(conn, entry.uid, actor=HOOK_ACTOR)
    again = []
    for entry in entries:
        latest = registry.store.latest(entry.ref.unversioned)
        if latest is not None and latest.spec.get("type") == "vulnerability":
            again.append(latest)  # the previous version of the advisory counts again
    if again:
        _written(registry, index, again)


def _written(registry: Registry, index: SecurityIndex, entries: list[Entry]) -> None:
    sboms: list[tuple[Owner, SbomSpec]] = []
    advisories: list[tuple[Owner, Advisory]] = []
    vex: list[tuple[Entry, VexSpec]] = []
    vulns: list[tuple[Owner, VulnerabilitySpec]] = []
    for entry in entries:
        record = SecuritySpec.model_validate(entry.spec).root
        owner = Owner(entry.uid, entry.ref, entry.revision)
        if isinstance(record, SbomSpec):
            sboms.append((owner, record))
        elif isinstance(record, VulnerabilitySpec):
            vulns.append((owner, record))
        elif isinstance(record, VexSpec):
            vex.append((entry, record))
    if vulns:
        # Only the latest version of an advisory counts: an older one written late is skipped.
        newest = {
            key: versions[0][0]
            for key, versions in registry.store.specs_of(
                "security", [(o.ref.namespace, o.ref.name) for o, _ in vulns]
            ).items()
        }
        advisories = [
            (owner, advisory_from_spec(record))
            for owner, record in vulns
            if newest.get((owner.ref.namespace, owner.ref.name), owner.ref.version)
            == owner.ref.version
        ]
    with index.read() as conn:
        known_sboms = _revisions(conn, t.sboms, [o.uid for o, _ in sboms])
        known_advisories = _revisions(conn, t.advisories, [o.uid for o, _ in advisories])
    sboms = [s for s in sboms if known_sboms.get(s[0].uid) != s[0].revision]
    advisories = [a for a in advisories if known_advisories.get(a[0].uid) != a[0].revision]
    parsed = [(owner, spec, *_parse(index, spec)) for owner, spec in sboms]
    outcome = Outcome()
    if parsed or advisories or vex:
        with index.tx() as conn:
            plain = [
                NewSbom(owner, sbom, _linked(spec), _digest(spec, raw), raw)
                for owner, spec, sbom, raw in parsed
                if owner.uid not in known_sboms and not sbom.vulnerabilities and not sbom.vex
            ]
            ids = index.add_sboms(conn, plain)
            done = {n.owner.uid for n in plain}
            for owner, spec, sbom, raw in parsed:
                if owner.uid in done:
                    continue
                out = index.add_sbom(
                    conn,
                    owner,
                    sbom,
                    linked=_linked(spec),
                    digest=_digest(spec, raw),
                    raw=raw,
                    actor=HOOK_ACTOR,
                    match=False,
                    fresh=owner.uid not in known_sboms,
                )
                outcome.merge(out)
                if out.sbom_id is not None:
                    ids.append(out.sbom_id)
            if ids:
                outcome.merge(index.match_sboms(conn, ids, HOOK_ACTOR))
            if advisories:
                outcome.merge(index.add_advisories(conn, advisories, actor=HOOK_ACTOR))
            for vex_entry, vex_spec in vex:
                _vex(index, conn, vex_entry, vex_spec)
    index.announce(outcome, actor=HOOK_ACTOR)


def _linked(spec: SbomSpec) -> str | None:
    return str(spec.linkedArtifact) if spec.linkedArtifact is not None else None


def _digest(spec: SbomSpec, raw: bytes | None) -> str:
    return spec.digest or "sha256:" + hashlib.sha256(raw or b"").hexdigest()


def _revisions(conn: sa.Connection, table: sa.Table, uids: list[str]) -> dict[str, int]:
    """The revision each of these entries was indexed at (absent: not indexed)."""
    out: dict[str, int] = {}
    for i in range(0, len(uids), 500):
        for row in conn.execute(
            sa.select(table.c.entry_uid, table.c.revision).where(
                table.c.entry_uid.in_(uids[i : i + 500])
            )
        ):
            out[row.entry_uid] = int(row.revision)
    return out


def _parse(index: SecurityIndex, spec: SbomSpec) -> tuple[Sbom, bytes | None]:
    """The embedded document parsed (as ``sbom import`` would), or an empty SBOM saying why."""
    from hyper_registry.kinds.security.formats import parse_sbom
    from hyper_registry.kinds.security.importing import sbom_limit

    if spec.document is None:
        return _empty(spec, "no document here (imported elsewhere): nothing to match", None), None
    raw = orjson.dumps(spec.document)
    try:
        return parse_sbom(raw, max_bytes=sbom_limit(index)), raw
    except HyperRegistryError as exc:
        return _empty(spec, f"the embedded document was not indexed: {exc.message}", exc), raw


def _empty(spec: SbomSpec, message: str, exc: HyperRegistryError | None) -> Sbom:
    notes = [Note(where="/", message=message, code="not-indexed")]
    if exc is not None:
        notes += [
            Note(where="/".join(str(x) for x in p.loc), message=p.message, code=p.code)
            for p in exc.problems[:20]
        ]
    return Sbom(
        format=spec.format,
        spec_version=spec.effective_spec_version() or "unknown",
        encoding="json",
        notes=notes,
    )


def _vex(index: SecurityIndex, conn: sa.Connection, entry: Entry, spec: VexSpec) -> None:
    from hyper_registry.kinds.security.triage import add_statements

    statement = VexStatement(
        vulnerability=spec.vulnerability,
        status=spec.state,
        justification=spec.justification,
        statement=spec.statement,
        products=[str(spec.artifact)],
    )
    conn.execute(t.vex_statements.delete().where(t.vex_statements.c.entry_uid == entry.uid))
    add_statements(
        index,
        conn,
        [statement],
        actor=entry.metadata.owner or HOOK_ACTOR,
        source=str(entry.ref),
        entry_uid=entry.uid,
    )
