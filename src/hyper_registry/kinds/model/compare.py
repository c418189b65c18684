"""Comparing model versions metric by metric.

Each metric has a direction: higher is better for accuracy, precision, recall, f1 and
auc; lower for loss, latency and size (and their ``latencyMs``/``sizeBytes`` forms);
any other metric is higher-is-better unless the caller says otherwise. The result
names the winner per metric, the overall winner by the primary metric (given, or the
one every model that declares ``primaryMetric`` agrees on) and the Pareto-optimal set
(models no other model beats or ties on every metric they all report).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from hyper_registry.core.errors import Invalid
from hyper_registry.core.ref import Ref
from hyper_registry.kinds.model.spec import ModelSpec

if TYPE_CHECKING:
    from hyper_registry.core.registry import Registry

Direction = Literal["higher", "lower"]
HIGHER_IS_BETTER = ("accuracy", "precision", "recall", "f1", "auc")
LOWER_IS_BETTER = ("loss", "latency", "latencyMs", "size", "sizeBytes")
MAX_MODELS = 100


def default_direction(metric: str) -> Direction:
    return "lower" if metric in LOWER_IS_BETTER else "higher"


def _better(a: float, b: float, direction: Direction) -> bool:
    return a > b if direction == "higher" else a < b


def compare_models(
    registry: Registry,
    refs: Sequence[Ref | str],
    metrics: Sequence[str] | None = None,
    *,
    directions: Mapping[str, str] | None = None,
    primary: str | None = None,
    baseline: Ref | str | None = None,
) -> dict[str, Any]:
    """``{"metrics": {...}, "winners": {...}, "winner": ref or None, "pareto": [...]}``."""
    if not refs:
        raise Invalid.at(("refs",), "name at least one model to compare", "missing")
    if len(refs) > MAX_MODELS:
        raise Invalid.at(("refs",), f"at most {MAX_MODELS} models can be compared at once")
    for i, r in enumerate(refs):
        kind = r.kind if isinstance(r, Ref) else str(r).partition(":")[0]
        if kind != "model":
            raise Invalid.at(("refs", i), f"{r} is not a model reference", "bad-ref-kind")
    entries = [registry.get(r) for r in refs]
    names = list(dict.fromkeys(str(e.ref) for e in entries))
    values: dict[str, dict[str, float]] = {}
    declared: set[str] = set()
    for e in entries:
        spec = ModelSpec.model_validate(e.spec)
        values[str(e.ref)] = spec.metrics.as_dict()
        if spec.primaryMetric:
            declared.add(spec.primaryMetric)
    given = dict(directions or {})
    for name, d in given.items():
        if d not in ("higher", "lower"):
            raise Invalid.at(
                ("directions", name), f"direction {d!r} must be 'higher' or 'lower'", "bad-choice"
            )
    wanted = list(metrics) if metrics else sorted({m for v in values.values() for m in v})
    base = str(registry.get(baseline).ref) if baseline is not None else names[0]
    if base not in values:
        raise Invalid.at(("baseline",), f"baseline {base} is not among the compared models")

    table: dict[str, Any] = {}
    winners: dict[str, str | None] = {}
    for m in wanted:
        direction: Direction = given.get(m, default_direction(m))  # type: ignore[assignment]
        column = {n: values[n].get(m) for n in names}
        best: str | None = None
        for n in names:
            v = column[n]
            if v is not None and (best is None or _better(v, column[best] or 0.0, direction)):
                best = n
        b = column.get(base)
        table[m] = {
            "direction": direction,
            "values": column,
            "best": column[best] if best else None,
            "baseline": base,
            "deltas": {
                n: (round(v - b, 12) if v is not None and b is not None else None)
                for n, v in column.items()
            },
        }
        winners[m] = best

    chosen = primary or (next(iter(declared)) if len(declared) == 1 else None)
    if primary is not None and primary not in table:
        raise Invalid.at(("primary",), f"primary metric {primary!r} is not compared")
    winner = winners.get(chosen) if chosen else None

    # Pareto: over the compared metrics every model reports.
    shared = [m for m in wanted if all(values[n].get(m) is not None for n in names)]
    pareto = [n for n in names if not any(_dominates(o, n, shared, values, table) for o in names)]
    return {"metrics": table, "winners": winners, "winner": winner, "pareto": pareto}


def _dominates(
    a: str, b: str, metrics: Sequence[str], values: dict[str, dict[str, float]], table: Any
) -> bool:
    if a == b or not metrics:
        return False
    strictly = False
    for m in metrics:
        va, vb = values[a][m], values[b][m]
        direction = table[m]["direction"]
        if _better(vb, va, direction):
            return False
        if _better(va, vb, direction):
            strictly = True
    return strictly
