"""The infra domain service: status and resource rows on registration, cost, diff, queries.

One per registry (``registry.extension(InfraService)``). The kind's after-commit hooks
call it; the API and CLI reach it through the kind's operations.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hyper_registry.core.envelope import Entry
from hyper_registry.core.errors import Invalid, NotFound
from hyper_registry.core.ref import Ref
from hyper_registry.kinds.infra import cost, resources
from hyper_registry.kinds.infra.model import Parsed
from hyper_registry.kinds.infra.rules import parsed_for

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from hyper_registry.core.registry import Registry

log = logging.getLogger(__name__)
STATUS_KEY = "infra"


def parse_spec(spec: dict[str, Any]) -> Parsed:
    """The parse of a spec's inline template (a note only, for one given by digest)."""
    if not isinstance(spec.get("source"), str):
        parsed = Parsed(templateType=str(spec.get("templateType", "")))
        parsed.note(
            "warning",
            "the template is given by digest; it is not stored here, so it was not parsed",
            "by-digest",
        )
        return parsed
    return parsed_for(spec["templateType"], spec["source"], spec.get("parameters") or {})


def derived_status(spec: dict[str, Any]) -> dict[str, Any]:
    """``status.infra`` of a template: its parse, resource counts and cost summary."""
    parsed = parse_spec(spec)
    estimate = cost.estimate(parsed, parameters=spec.get("parameters") or {})
    types = Counter(r.type for r in parsed.resources)
    return {
        "templateType": parsed.templateType,
        "resourceCount": len(parsed.resources),
        "resourceTypes": dict(sorted(types.items())),
        "providers": parsed.providers,
        "cost": {
            "total": estimate["total"],
            "currency": estimate["currency"],
            "breakdown": estimate["breakdown"],
            "unpriced": len(estimate["unpriced"]),
            "catalogue": cost.shipped_catalogue()["date"],
        },
        "parsed": parsed.summary(),
    }


class InfraService:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def close(self) -> None:
        """Nothing to release: parses run in short-lived child processes."""

    # -- registration ----------------------------------------------------------------

    def parsed(self, entry: Entry) -> Parsed:
        """The entry's parse: from its status when recorded, else parsed again."""
        stored = entry.status.get(STATUS_KEY, {}).get("parsed")
        if isinstance(stored, dict):
            return Parsed.model_validate(stored)
        return parse_spec(entry.spec)

    def on_written(self, conn: Connection, entries: Sequence[Entry]) -> None:
        """The resource rows of written templates, inside the write's transaction.

        The parse comes from ``status.infra``, derived when the document was prepared
        (``derived_status``): a template is parsed once per write, wherever it was prepared.
        """
        templates = []
        for entry in entries:
            parsed = self.parsed(entry)
            md = entry.metadata
            templates.append(
                (
                    entry.uid,
                    md.namespace,
                    md.name,
                    md.version,
                    parsed.templateType,
                    parsed.resources,
                )
            )
        resources.replace_many(conn, templates)

    def on_unregistered(self, entry: Entry) -> None:
        resources.remove(self.registry.store.engine, entry.uid)

    # -- reads -----------------------------------------------------------------------

    def entry(self, ref: Ref | str) -> Entry:
        r = ref if isinstance(ref, Ref) else Ref.parse(ref, default_kind="infra")
        if r.kind != "infra":
            raise Invalid.at(("ref",), f"{r} is not an infra template")
        return self.registry.get(r)

    def estimate_cost(
        self,
        ref: Ref | str,
        *,
        usage: dict[str, Any] | None = None,
        catalogue: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``{"total", "currency", "breakdown", "resources", "unpriced"}`` of a template."""
        entry = self.entry(ref)
        return cost.estimate(
            self.parsed(entry),
            usage=usage,
            parameters=entry.spec.get("parameters") or {},
            catalogue=catalogue,
        )

    def diff(
        self,
        old: Ref | str,
        new: Ref | str,
        *,
        usage: dict[str, Any] | None = None,
        catalogue: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        a, b = self.entry(old), self.entry(new)
        pa, pb = self.parsed(a), self.parsed(b)
        ca = cost.estimate(
            pa, usage=usage, parameters=a.spec.get("parameters") or {}, catalogue=catalogue
        )
        cb = cost.estimate(
            pb, usage=usage, parameters=b.spec.get("parameters") or {}, catalogue=catalogue
        )
        return {"from": str(a.ref), "to": str(b.ref), **cost.diff(pa, pb, ca, cb)}

    def find(
        self,
        *,
        resource_type: str | None = None,
        provider: str | None = None,
        namespaces: Sequence[str] | None = None,
        all_versions: bool = False,
        limit: int = 1000,
    ) -> list[Entry]:
        """Templates holding resources of that type/provider (latest versions unless all)."""
        hits = resources.find(
            self.registry.store.engine,
            resource_type=resource_type,
            provider=provider,
            namespaces=namespaces,
            limit=100_000,
        )
        versions: dict[tuple[str, str], set[str]] = {}
        for h in hits:
            versions.setdefault((h.namespace, h.name), set()).add(h.version)
        out: list[Entry] = []
        for (ns, name), vs in versions.items():
            try:
                if all_versions:
                    out.extend(
                        e
                        for e in self.registry.versions(Ref("infra", ns, name))
                        if e.metadata.version in vs
                    )
                else:
                    latest = self.registry.get(Ref("infra", ns, name))
                    if latest.metadata.version in vs:
                        out.append(latest)
            except NotFound:
                continue
            if len(out) >= limit:
                break
        return out[:limit]

    def deploys(
        self, ref: Ref | str, namespaces: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """Services the template deploys: declared relations, and inferred name matches.

        A service is inferred when its name equals the chart's name, a resource's name or
        a name-like attribute (``name``, ``Name``, ``FunctionName``), compared without
        case and ignoring ``-``, ``_`` and ``.``. Inferred items carry ``"inferred": true`` and why;
        they are computed when asked, so a service registered later is found too.
        """
        entry = self.entry(ref)
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for rel in self.registry.relations(entry.ref):
            if rel.type == "deploys" and rel.other.kind == "service":
                target = str(rel.other)
                seen.add(target.split("@")[0])
                out.append({"target": target, "inferred": False, "origin": rel.origin})
        parsed = self.parsed(entry)
        names: dict[str, str] = {}
        chart = parsed.details.get("chart") or {}
        if isinstance(chart.get("name"), str):
            names[_norm(chart["name"])] = f"chart name {chart['name']!r}"
        for r in parsed.resources:
            for cand in (
                r.name,
                *(
                    str(r.attributes.get(k))
                    for k in ("name", "Name", "FunctionName")
                    if k in r.attributes
                ),
            ):
                names.setdefault(_norm(cand), f"resource {r.address} ({cand!r})")
        if not names:
            return out
        from hyper_registry.store.base import Query

        page = self.registry.query(
            Query(kinds=["service"], visible_namespaces=namespaces, limit=1000)
        )
        for svc in page.items:
            key = _norm(svc.metadata.name)
            target = f"service:{svc.metadata.namespace}/{svc.metadata.name}"
            if key in names and target not in seen:
                seen.add(target)
                out.append({"target": target, "inferred": True, "reason": f"matches {names[key]}"})
        return out


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", name.lower())
