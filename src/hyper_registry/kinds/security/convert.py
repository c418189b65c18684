"""Between parsed records (``parsed.py``) and registry documents of the ``security`` kind.

An imported OSV advisory becomes a ``vulnerability`` entry whose spec keeps what matching
and display need (the raw vectors too, even malformed ones: scoring reports them). A
``vulnerability`` entry written by hand (``apply -f``) is read back into an ``Advisory``
for the index. Imported SBOMs keep a digest and a summary in their spec; the components
live in the index tables and the raw document beside them (see docs/security.md).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from hyper_registry.core.ref import VERSION_MAX, name_problem, version_problem
from hyper_registry.kinds.security.ids import advisory_id_problem
from hyper_registry.kinds.security.parsed import (
    Advisory,
    Affected,
    Component,
    Event,
    Note,
    Range,
    Sbom,
    Severity,
)
from hyper_registry.kinds.security.vulnerability import VulnerabilitySpec

SEVERITY_WORDS = {
    "critical": "critical",
    "high": "high",
    "important": "high",
    "moderate": "medium",
    "medium": "medium",
    "low": "low",
    "none": "none",
}
_SLUG = re.compile(r"[^a-z0-9._-]+")
_VECTOR_TYPES = {"2.0": "CVSS_V2", "3.0": "CVSS_V3", "3.1": "CVSS_V3", "4.0": "CVSS_V4"}


def slug(text: str, max_len: int = 200) -> str:
    """A registry name made from free text: lower case, safe characters, trimmed."""
    out = _SLUG.sub("-", text.lower()).strip("-._")
    out = re.sub(r"\.\.+", ".", out)[:max_len].strip("-._")
    return out or "unnamed"


def advisory_name(advisory_id: str) -> str:
    return slug(advisory_id)


def advisory_version(adv: Advisory) -> str:
    """The entry version of an advisory: its modification time (compact), else '1'."""
    stamp = adv.published if _modified_before_published(adv) else adv.modified or adv.published
    when = _timestamp(stamp) if stamp else None
    if when is None:
        return "1"
    return when.strftime("%Y-%m-%dT%H%M%SZ")


def _timestamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _modified_before_published(adv: Advisory) -> bool:
    modified, published = _timestamp(adv.modified), _timestamp(adv.published)
    return modified is not None and published is not None and modified < published


def advisory_document(adv: Advisory, namespace: str) -> dict[str, Any]:
    """The ``vulnerability`` entry an imported advisory becomes."""
    spec: dict[str, Any] = {"type": "vulnerability", "id": adv.id}
    aliases = [a for a in dict.fromkeys(adv.aliases) if a != adv.id and not advisory_id_problem(a)]
    if aliases:
        spec["aliases"] = aliases
    if adv.summary:
        spec["summary"] = adv.summary[:1024]
    if adv.details:
        spec["details"] = adv.details[:65536]
    label = SEVERITY_WORDS.get((adv.severity_label or "").lower())
    if label:
        spec["severity"] = label
    if adv.severity:
        spec["vectors"] = [{"type": s.type[:32], "vector": s.vector[:512]} for s in adv.severity]
    for field in ("published", "modified", "withdrawn"):
        when = _timestamp(getattr(adv, field))
        if when is not None:
            spec[field] = when.isoformat().replace("+00:00", "Z")
    if _modified_before_published(adv):
        spec.pop("modified", None)  # Go's database writes 0001-01-01 for "never modified"
    affected = [_affected_spec(a) for a in adv.affected]
    spec["affected"] = [a for a in affected if a is not None]
    return {
        "apiVersion": "hyper-registry/v1",
        "kind": "security",
        "metadata": {
            "namespace": namespace,
            "name": advisory_name(adv.id),
            "version": advisory_version(adv),
            "title": f"{adv.id}: {adv.summary}"[:1024] if adv.summary else adv.id,
        },
        "spec": spec,
    }


def _affected_spec(item: Affected) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    if item.purl:
        out["purl"] = item.purl
    if item.ecosystem and item.name:
        out["ecosystem"] = item.ecosystem
        out["name"] = item.name
    if not out:
        return None
    ranges = []
    for rng in item.ranges:
        events = [
            {k: v for k, v in e.model_dump().items() if v is not None}
            for e in rng.events
            if any(v is not None for v in e.model_dump().values())
        ]
        if not any("introduced" in e for e in events):
            continue
        if rng.type == "GIT" and not rng.repo:
            continue
        r: dict[str, Any] = {"type": rng.type, "events": events}
        if rng.repo:
            r["repo"] = rng.repo
        ranges.append(r)
    if ranges:
        out["ranges"] = ranges
    if item.versions:
        out["versions"] = item.versions
    return out


def advisory_from_spec(spec: VulnerabilitySpec) -> Advisory:
    """The advisory a ``vulnerability`` entry states, as the index reads it."""
    severity: list[Severity] = []
    if spec.cvss is not None:
        severity.append(
            Severity(
                type=_VECTOR_TYPES.get(spec.cvss.vector_version, "CVSS_V3"), vector=spec.cvss.vector
            )
        )
    for v in spec.vectors:
        if all(s.vector != v.vector for s in severity):
            severity.append(Severity(type=v.type, vector=v.vector))
    return Advisory(
        id=spec.id,
        aliases=list(spec.aliases),
        summary=spec.summary,
        details=spec.details,
        published=spec.published.isoformat() if spec.published else None,
        modified=spec.modified.isoformat() if spec.modified else None,
        withdrawn=spec.withdrawn.isoformat() if spec.withdrawn else None,
        severity=severity,
        severity_label=spec.severity.lower() if spec.severity else None,
        affected=[
            Affected(
                ecosystem=a.ecosystem,
                name=a.name,
                purl=a.purl,
                ranges=[
                    Range(
                        type=r.type,
                        repo=r.repo,
                        events=[Event(**e.model_dump()) for e in r.events],
                    )
                    for r in a.ranges
                ],
                versions=list(a.versions),
            )
            for a in spec.affected
        ],
    )


def described_label(sbom: Sbom) -> dict[str, Any] | None:
    c = sbom.described
    if c is None:
        return None
    return {k: v for k, v in {"name": c.name, "version": c.version, "purl": c.purl}.items() if v}


def sbom_document(
    sbom: Sbom,
    *,
    namespace: str,
    name: str | None,
    version: str | None,
    linked: str | None,
    digest: str,
) -> dict[str, Any]:
    """The ``sbom`` entry an imported document becomes (the document itself is not inlined)."""
    described = sbom.described
    base = name or slug(f"{described.name if described else sbom.name or 'sbom'}-sbom", 253)
    if name_problem(base) is not None:
        base = slug(base, 253)
    ver = version or (described.version if described and described.version else None)
    if ver is None or version_problem(ver) is not None:
        ver = (version_slug(ver) if ver else None) or f"sha256-{digest.split(':', 1)[-1][:16]}"
    spec: dict[str, Any] = {
        "type": "sbom",
        "format": sbom.format,
        "specVersion": sbom.spec_version,
        "digest": digest,
        "summary": {
            "components": len(sbom.components),
            "dependencies": len(sbom.dependencies),
            "vulnerabilities": len(sbom.vulnerabilities),
            "vex": len(sbom.vex),
            "notes": len(sbom.notes),
            "encoding": sbom.encoding,
        },
    }
    label = described_label(sbom)
    if label:
        spec["described"] = label
    if linked:
        spec["linkedArtifact"] = linked
    metadata: dict[str, Any] = {"namespace": namespace, "name": base, "version": ver}
    if described is not None:
        metadata["title"] = f"SBOM of {described.name} {described.version or ''}".strip()[:1024]
    return {
        "apiVersion": "hyper-registry/v1",
        "kind": "security",
        "metadata": metadata,
        "spec": spec,
    }


def version_slug(text: str) -> str | None:
    out = re.sub(r"[^A-Za-z0-9._+-]+", "-", text).strip("-._")[:VERSION_MAX]
    out = re.sub(r"\.\.+", ".", out).rstrip("-.")
    return out if out and version_problem(out) is None else None


def note_dicts(notes: list[Note]) -> list[dict[str, str]]:
    return [n.model_dump() for n in notes]


def component_label(c: Component) -> str:
    return c.purl or (f"{c.name}@{c.version}" if c.version else c.name)
