"""Importing SBOMs, advisories and VEX documents: parse, write entries, index, announce.

Every entry goes through the write pipeline; the index rows are written inside the same
transaction (``within``), so an import is all or nothing, and the after-commit hook of the
kind sees them already there. ``security.critical`` events are appended after the commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from hyper_registry.core.errors import (
    HyperRegistryError,
    Invalid,
    ItemError,
    NotFound,
)
from hyper_registry.kinds.security import convert
from hyper_registry.kinds.security.index import Outcome, Owner
from hyper_registry.kinds.security.parsed import Advisory, Sbom
from hyper_registry.store.base import PreparedWrite, Query, WriteResult

if TYPE_CHECKING:
    from hyper_registry.kinds.security.formats import AdvisoryError
    from hyper_registry.kinds.security.index import SecurityIndex

DEFAULT_ADVISORY_NAMESPACE = "advisories"
DEFAULT_SBOM_NAMESPACE = "default"
ADVISORY_BATCH = 500
MAX_SBOM_BYTES = 50 * 1024 * 1024

Progress = Callable[[int], None]


def sbom_limit(index: SecurityIndex) -> int:
    return min(MAX_SBOM_BYTES, index.registry.settings.max_bulk_bytes)


def find_described(
    index: SecurityIndex, sbom: Sbom, namespace: str | None
) -> tuple[str | None, list[str]]:
    """The registered entry whose name and version are the described component's.

    Returns (reference, notes): no candidate or several candidates leave it unlinked.
    """
    described = sbom.described
    if described is None or not described.version:
        return None, ["the SBOM names no described component with a version"]
    names = {convert.slug(described.name, 253)}
    if described.purl_name:
        names.add(convert.slug(described.purl_name, 253))
    found: list[str] = []
    for name in sorted(names):
        page = index.registry.query(Query(name=name, all_versions=True, limit=500))
        for entry in page.items:
            if entry.kind != "security" and entry.metadata.version == described.version:
                found.append(str(entry.ref))
    if namespace is not None:
        found = [f for f in found if f.split(":", 1)[1].startswith(namespace + "/")] or found
    found = sorted(set(found))
    if len(found) == 1:
        return found[0], []
    label = f"{described.name}@{described.version}"
    if not found:
        return None, [f"no registered entry is named {label}: the SBOM is stored unlinked"]
    return None, [f"several entries match {label} ({', '.join(found)}): pass --describes"]


def import_sbom(
    index: SecurityIndex,
    data: bytes,
    *,
    namespace: str | None = None,
    name: str | None = None,
    version: str | None = None,
    describes: str | None = None,
    actor: str = "local",
    authorize: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Parse, validate, store and match one SBOM document; returns the import report.

    ``authorize(namespace)`` is called with the namespace the SBOM will be written to,
    before anything is written (the API checks the caller's role there).
    """
    from hyper_registry.kinds.security.formats import parse_sbom

    registry = index.registry
    sbom = parse_sbom(data, max_bytes=sbom_limit(index))
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    notes: list[str] = []
    if describes:
        try:
            linked: str | None = str(registry.get(describes).ref)
        except NotFound:
            raise NotFound(f"--describes {describes}: not found") from None
    else:
        linked, notes = find_described(index, sbom, namespace)
    ns = namespace or (linked.split(":", 1)[1].split("/", 1)[0] if linked else None)
    doc = convert.sbom_document(
        sbom,
        namespace=ns or DEFAULT_SBOM_NAMESPACE,
        name=name,
        version=version,
        linked=linked,
        digest=digest,
    )
    if authorize is not None:
        authorize(doc["metadata"]["namespace"])
    item = registry.pipeline.prepare(doc, "apply")
    outcome = Outcome()

    def within(conn: sa.Connection, results: Sequence[WriteResult | ItemError]) -> None:
        for res in results:
            if isinstance(res, WriteResult) and res.outcome != "unchanged":
                outcome.merge(
                    index.add_sbom(
                        conn,
                        Owner(res.uid, res.ref, res.revision),
                        sbom,
                        linked=linked,
                        digest=digest,
                        raw=data,
                        actor=actor,
                    )
                )

    result = _commit_one(index, item, actor, within)
    index.announce(outcome, actor=actor)
    report = index.sbom_report(str(result.ref))
    report.update(
        {
            "ref": str(result.ref),
            "outcome": result.outcome,
            "linked": linked,
            "unlinked": linked is None,
            "messages": notes,
            "newFindings": outcome.created_findings,
            "newCritical": len(outcome.critical),
        }
    )
    return report


def _commit_one(
    index: SecurityIndex,
    item: PreparedWrite,
    actor: str,
    within: Callable[[sa.Connection, Sequence[WriteResult | ItemError]], None],
) -> WriteResult:
    res = index.registry.pipeline.commit([item], actor=actor, atomic=True, within=within)[0]
    if isinstance(res, ItemError):  # pragma: no cover - atomic commits raise instead
        raise res.error
    return res


def import_advisories(
    index: SecurityIndex,
    records: Iterable[Advisory | AdvisoryError],
    *,
    namespace: str = DEFAULT_ADVISORY_NAMESPACE,
    actor: str = "local",
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Store and match advisories in batches; a bad record is reported, the rest go on."""
    from hyper_registry.kinds.security.formats import AdvisoryError as _Error

    counts = {"read": 0, "created": 0, "updated": 0, "unchanged": 0, "refused": 0}
    refused: list[dict[str, Any]] = []
    notes: list[dict[str, str]] = []
    totals = Outcome()
    withdrawn = 0
    batch: list[tuple[PreparedWrite, Advisory]] = []

    def flush() -> None:
        if not batch:
            return
        items = [b[0] for b in batch]
        advisories = [b[1] for b in batch]
        outcome = Outcome()

        def within(conn: sa.Connection, results: Sequence[WriteResult | ItemError]) -> None:
            pairs = [
                (Owner(r.uid, r.ref, r.revision), advisories[r.index])
                for r in results
                if isinstance(r, WriteResult) and r.outcome != "unchanged"
            ]
            if pairs:
                outcome.merge(index.add_advisories(conn, pairs, actor=actor))

        results = index.registry.pipeline.commit(items, actor=actor, atomic=False, within=within)
        for r in results:
            if isinstance(r, ItemError):
                counts["refused"] += 1
                refused.append({"id": advisories[r.index].id, "reason": _reason(r.error)})
            else:
                counts[r.outcome] += 1
        index.announce(outcome, actor=actor)
        totals.merge(outcome)
        if progress is not None:
            progress(len(batch))
        batch.clear()

    for record in records:
        counts["read"] += 1
        if isinstance(record, _Error):
            counts["refused"] += 1
            refused.append({"file": record.file, "reason": record.reason})
            if progress is not None:
                progress(1)
            continue
        if record.withdrawn:
            withdrawn += 1
        notes.extend({"advisory": record.id, **n.model_dump()} for n in record.notes)
        try:
            item = index.registry.pipeline.prepare(
                convert.advisory_document(record, namespace), "apply"
            )
        except HyperRegistryError as exc:
            counts["refused"] += 1
            refused.append({"id": record.id, "reason": _reason(exc)})
            if progress is not None:
                progress(1)
            continue
        if any(b[0].ref == item.ref for b in batch):
            flush()  # the same record twice: the later one wins, in its own batch
        batch.append((item, record))
        if len(batch) >= ADVISORY_BATCH:
            flush()
    flush()
    return {
        **counts,
        "withdrawn": withdrawn,
        "newFindings": totals.created_findings,
        "newCritical": len(totals.critical),
        "removedFindings": totals.removed_findings,
        "refusedItems": refused[:100],
        "notes": notes[:100],
    }


def advisories_from_bytes(data: bytes, name: str = "body") -> Iterator[Advisory | AdvisoryError]:
    """The OSV records of one JSON or YAML document (one record, or a list of records)."""
    from hyper_registry.kinds.security.formats import AdvisoryError as _Error
    from hyper_registry.kinds.security.formats import parse_advisory
    from hyper_registry.kinds.security.formats.osv import load_document

    try:
        doc = load_document(data, name)
    except HyperRegistryError as exc:
        yield _Error(name, exc.message, exc.problems)
        return
    records = doc if isinstance(doc, list) else [doc]
    for i, record in enumerate(records):
        where = name if len(records) == 1 else f"{name}#{i}"
        try:
            yield parse_advisory(record, where=where)
        except HyperRegistryError as exc:
            yield _Error(where, exc.message, exc.problems)


def import_openvex(index: SecurityIndex, data: bytes, *, actor: str = "local") -> dict[str, Any]:
    """Store the statements of an OpenVEX document and re-triage what they touch."""
    from hyper_registry.kinds.security.formats import parse_openvex
    from hyper_registry.kinds.security.triage import add_statements

    statements = parse_openvex(data, max_bytes=sbom_limit(index))
    digest = hashlib.sha256(data).hexdigest()[:16]
    with index.tx() as conn:
        touched = add_statements(index, conn, statements, actor=actor, source=f"openvex:{digest}")
    return {"statements": len(statements), "findings": len(touched)}


def _reason(exc: HyperRegistryError) -> str:
    if isinstance(exc, Invalid) and exc.problems:
        p = exc.problems[0]
        where = ".".join(str(x) for x in p.loc)
        return f"{where}: {p.message}" if where else p.message
    return exc.message
