"""Shared small pieces of the security index: who owns rows, what a step did, keys."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from hyper_registry.core.errors import Invalid
from hyper_registry.core.ref import Ref
from hyper_registry.kinds.security import tables as t
from hyper_registry.kinds.security.parsed import Advisory, Component

CHUNK = 500
SEVERITIES = ("critical", "high", "medium", "low", "unknown")
SUPPRESSING = frozenset({"not_affected", "fixed"})
OPEN = "open"


@dataclass(frozen=True)
class Owner:
    """The entry a set of index rows derives from."""

    uid: str
    ref: Ref
    revision: int = 1


@dataclass
class NewFinding:
    id: int
    sbom_id: int
    component: str
    advisory_id: str
    severity: str
    score: float | None
    fixed_version: str | None


@dataclass
class Outcome:
    """What one indexing step did; ``critical`` lists new critical findings to announce."""

    sbom_id: int | None = None
    advisory_pk: int | None = None
    critical: list[NewFinding] = field(default_factory=list)
    created_findings: int = 0
    removed_findings: int = 0
    notes: list[dict[str, str]] = field(default_factory=list)

    def merge(self, other: Outcome) -> None:
        self.critical.extend(other.critical)
        self.created_findings += other.created_findings
        self.removed_findings += other.removed_findings


def alias_key(text: str) -> str:
    """How a vulnerability name is looked up: upper case; references as ``REF:NS/NAME``."""
    if "/" in text:
        try:
            ref = Ref.parse(text, default_kind="security")
        except Invalid:  # not a reference: an id with a slash
            return text.upper()[:400]
        return f"REF:{ref.namespace}/{ref.name}".upper()
    return text.strip().upper()[:400]


def severity_of(adv: Advisory) -> tuple[float | None, str, list[dict[str, str]]]:
    """(score, severity band, notes): the highest score among the advisory's vectors."""
    from hyper_registry.kinds.security import cvss

    score, word, notes = cvss.advisory_severity(adv)
    band = str(word or "unknown").lower()
    if band == "none":
        band = "low"
    if band not in SEVERITIES:
        band = "unknown"
    return score, band, [n.model_dump() for n in notes]


COMPONENT_COLS = (
    t.components.c.id,
    t.components.c.sbom_id,
    t.components.c.key,
    t.components.c.name,
    t.components.c.version,
    t.components.c.purl,
    t.components.c.purl_type,
    t.components.c.purl_namespace,
    t.components.c.purl_name,
    t.components.c.ecosystem,
    t.components.c.package,
    t.components.c.matchable,
)


def component_from_row(row: Any) -> Component:
    return Component.model_construct(
        key=row.key,
        name=row.name,
        version=row.version,
        purl=row.purl,
        purl_type=row.purl_type,
        purl_namespace=row.purl_namespace,
        purl_name=row.purl_name,
        matchable=bool(row.matchable),
        group=None,
        cpe=None,
        licenses=[],
        hashes={},
        supplier=None,
        parent=None,
    )


def chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]
