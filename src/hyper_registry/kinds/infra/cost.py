"""Monthly cost estimates from the shipped, dated price catalogue and a usage file.

``estimate(parsed, ...)`` prices each resource with its type's pricer
(:mod:`~hyper_registry.kinds.infra.pricing`) times its count, and sums per category
(compute, storage, network, database, other). A resource without a price is listed in
``unpriced`` with the reason, never counted as zero in silence; types that cost nothing
by themselves (a VPC, a Kubernetes Service) are listed with a zero cost.

The usage file follows Infracost's layout (YAML or JSON)::

    resource_type_default_usage:
      aws_s3_bucket: {storage_gb: 500}
    resource_usage:
      aws_instance.gateway: {monthly_hours: 200}
    region: eu-west-1                      # optional: overrides parameters.region
    kubernetes: {vcpuHour: 0.04, gbHour: 0.005, storageGbMonth: 0.12}
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources as pkg_resources
from pathlib import Path
from typing import Any

from hyper_registry.core.errors import Invalid
from hyper_registry.kinds.infra.model import Parsed, Resource
from hyper_registry.kinds.infra.pricers import FREE, PRICERS
from hyper_registry.kinds.infra.pricing import Ctx, Line

CATEGORIES = ("compute", "storage", "network", "database", "other")
CATALOGUE = "2026-11-01.json"
USAGE_KEYS = frozenset(
    {"version", "resource_type_default_usage", "resource_usage", "region", "kubernetes"}
)


@cache
def shipped_catalogue() -> dict[str, Any]:
    """The price catalogue shipped in the package (read once; callers must not mutate it)."""
    text = (pkg_resources.files("hyper_registry.kinds.infra") / "prices" / CATALOGUE).read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def load_catalogue(path: Path) -> dict[str, Any]:
    """A replacement catalogue; it must have the shipped one's top-level fields."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Invalid.at(("prices",), f"cannot read the price catalogue: {exc}") from None
    missing = [k for k in ("date", "currency", "hoursPerMonth", "usageDefaults") if k not in data]
    if missing:
        raise Invalid.at(("prices",), f"the price catalogue lacks: {', '.join(missing)}")
    return data  # type: ignore[no-any-return]


def check_usage(usage: Any) -> dict[str, Any]:
    if usage is None:
        return {}
    if not isinstance(usage, dict):
        raise Invalid.at(("usage",), "a usage file must be a mapping")
    for key in usage:
        if key not in USAGE_KEYS:
            raise Invalid.at(
                ("usage", key), f"unknown usage key {key!r}; known: {', '.join(sorted(USAGE_KEYS))}"
            )
    for key in ("resource_type_default_usage", "resource_usage"):
        value = usage.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise Invalid.at(("usage", key), f"{key} must map names to mappings of numbers")
    return usage


def _region(
    provider: str, catalogue: dict[str, Any], usage: dict[str, Any], parameters: dict[str, Any]
) -> str:
    region = usage.get("region") or parameters.get("region")
    if isinstance(region, str):
        return region
    return str(catalogue.get("defaultRegion", {}).get(provider, ""))


def estimate(
    parsed: Parsed,
    *,
    usage: dict[str, Any] | None = None,
    parameters: dict[str, Any] | None = None,
    catalogue: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``{"total", "currency", "breakdown", "resources", "unpriced"}`` for a parsed template."""
    cat = catalogue or shipped_catalogue()
    use = check_usage(usage)
    params = parameters or {}
    k8s = {**cat.get("kubernetes", {}), **(use.get("kubernetes") or {})}
    breakdown = dict.fromkeys(CATEGORIES, 0.0)
    priced: list[dict[str, Any]] = []
    unpriced: list[dict[str, Any]] = []
    for r in parsed.resources:
        entry = _price(r, cat, use, params, k8s)
        if "reason" in entry:
            unpriced.append(entry)
            continue
        breakdown[entry["category"]] += entry.pop("_monthly")
        priced.append(entry)
    total = sum(breakdown.values())
    return {
        "total": round(total, 2),
        "currency": str(cat.get("currency", "USD")),
        "breakdown": {k: round(v, 2) for k, v in breakdown.items()},
        "resources": priced,
        "unpriced": unpriced,
    }


def _price(
    r: Resource,
    cat: dict[str, Any],
    use: dict[str, Any],
    params: dict[str, Any],
    k8s: dict[str, Any],
) -> dict[str, Any]:
    base = {"address": r.address, "type": r.type, "provider": r.provider}
    found = PRICERS.get(r.type)
    if found is None:
        if FREE.match(r.type):
            return {
                **base,
                "category": "other",
                "count": r.count,
                "monthly": 0.0,
                "lines": [],
                "note": "no charge for this resource type by itself",
                "_monthly": 0.0,
            }
        return {**base, "reason": "no price for this resource type in the catalogue"}
    category, pricer = found
    region = _region(r.provider, cat, use, params) if r.provider != "kubernetes" else ""
    multipliers = cat.get("regionMultiplier", {}).get(r.provider, {})
    if region and multipliers and region not in multipliers:
        return {**base, "reason": f"no prices for region {region!r}"}
    usage = {
        **cat["usageDefaults"],
        **(use.get("resource_type_default_usage", {}).get(r.type) or {}),
        **(use.get("resource_usage", {}).get(r.address) or {}),
    }
    ctx = Ctx(
        prices=cat.get(r.provider, {}) if r.provider != "kubernetes" else {},
        kubernetes=k8s,
        region=region,
        multiplier=float(multipliers.get(region, 1.0)) if region else 1.0,
        usage=usage,
    )
    try:
        result = pricer(r, ctx)
    except (KeyError, TypeError, ValueError) as exc:
        return {**base, "reason": f"the catalogue lacks a price this resource needs ({exc})"}
    if isinstance(result, str):
        return {**base, "reason": result}
    count = r.count if r.count is not None else 1
    if r.count is None:
        for line in result:
            line.assumption += f"; count unknown ({(r.countExpr or '')[:80]}), priced as 1"
    monthly = sum(line.monthly for line in result) * count
    out = {
        **base,
        "category": category,
        "count": count,
        "monthly": round(monthly, 2),
        "lines": [_line(line, count) for line in result],
        "_monthly": monthly,
    }
    if region:
        out["region"] = region
    return out


def _line(line: Line, count: int) -> dict[str, Any]:
    d = line.to_dict()
    if count != 1:
        d["quantity"] = round(line.quantity * count, 4)
        d["monthly"] = round(line.monthly * count, 2)
        d["assumption"] += f"; x {count} instances"
    return d


def diff(
    old: Parsed, new: Parsed, old_cost: dict[str, Any], new_cost: dict[str, Any]
) -> dict[str, Any]:
    """Resources added, removed and changed between two parses, and the cost delta."""
    before = {r.address: r for r in old.resources}
    after = {r.address: r for r in new.resources}
    cost_of = {
        "old": {r["address"]: r["monthly"] for r in old_cost["resources"]},
        "new": {r["address"]: r["monthly"] for r in new_cost["resources"]},
    }
    changed = []
    for addr in sorted(set(before) & set(after)):
        a, b = before[addr], after[addr]
        if (a.type, a.count, a.attributes) != (b.type, b.count, b.attributes):
            changed.append(
                {
                    "address": addr,
                    "type": b.type,
                    "monthlyBefore": cost_of["old"].get(addr),
                    "monthlyAfter": cost_of["new"].get(addr),
                }
            )
    return {
        "added": [
            {"address": a, "type": after[a].type, "monthly": cost_of["new"].get(a)}
            for a in sorted(set(after) - set(before))
        ],
        "removed": [
            {"address": a, "type": before[a].type, "monthly": cost_of["old"].get(a)}
            for a in sorted(set(before) - set(after))
        ],
        "changed": changed,
        "cost": {
            "before": old_cost["total"],
            "after": new_cost["total"],
            "delta": round(new_cost["total"] - old_cost["total"], 2),
            "currency": new_cost["currency"],
            "breakdownDelta": {
                k: round(new_cost["breakdown"][k] - old_cost["breakdown"][k], 2) for k in CATEGORIES
            },
        },
    }
