"""Get by reference, in process: ``Registry.get(ref)`` latency for an exact version, the
latest version and an alias, on a store of N entries.

Prints one JSON line with p50 / p99 / mean in microseconds per kind of lookup.
On SQLite the store is built once and cached under /tmp/hyper-registry-bench
(``--rebuild`` forces a new one); on PostgreSQL the schema is rebuilt every run.

    python bench/get_latency.py --backend sqlite --n 100000 --lookups 10000
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Sequence
from typing import Any

from _common import (
    Backend,
    autovacuum,
    emit,
    graph_registry,
    load,
    log,
    machine,
    parser,
    percentile,
    pg_version,
    profiled,
    settle,
)
from hyper_registry import Registry


def lookups(world: Any, count: int, seed: int) -> dict[str, list[str]]:
    """``count`` references of each form, drawn from the registered entries."""
    rng = random.Random(seed + 1)
    exact = world.refs()
    names = sorted({r.split("@", 1)[0] for r in exact})
    # An alias exists for each model name whose newest version is registered (it claims it).
    newest = {f"{nm.ref()}@{nm.versions[-1]}" for nm in world.names["model"]}
    aliased = sorted(r.split("@", 1)[0] + "@champion" for r in exact if r in newest)
    return {
        "exact": [rng.choice(exact) for _ in range(count)],
        "latest": [rng.choice(names) for _ in range(count)],
        "alias": [rng.choice(aliased) for _ in range(count)],
    }


def measure(reg: Registry, refs: Sequence[str]) -> list[float]:
    """Microseconds per ``get``, one sample per reference."""
    clock = time.perf_counter_ns
    get = reg.get
    out: list[float] = []
    for ref in refs:
        t0 = clock()
        get(ref)
        out.append((clock() - t0) / 1000)
    return out


def main() -> None:
    p = parser("get-by-reference latency")
    p.add_argument("--lookups", type=int, default=10_000, help="lookups of each form")
    p.add_argument("--rels", type=int, default=3, help="relations per entry in the store")
    p.add_argument("--rebuild", action="store_true", help="do not reuse a cached SQLite store")
    args: argparse.Namespace = p.parse_args()
    backend = Backend(args)
    reg, world = graph_registry(backend, args.n, args.rels, args.seed, rebuild=args.rebuild)
    try:
        forms = lookups(world, args.lookups, args.seed)
        del world
        settle()
        log("warming up ...")
        for refs in forms.values():
            measure(reg, refs[:500])
        figures: dict[str, Any] = {}
        load_before = load()
        for form, refs in forms.items():

            def run(refs: list[str] = refs) -> list[float]:
                return measure(reg, refs)

            samples: list[float] = profiled(args.profile and f"{args.profile}.{form}", run)
            figures[form] = {
                "p50_us": round(percentile(samples, 50), 1),
                "p99_us": round(percentile(samples, 99), 1),
                "mean_us": round(sum(samples) / len(samples), 1),
            }
            log(f"{form}: {figures[form]}")
    finally:
        reg.close()
    out: dict[str, Any] = {
        "bench": "get_latency",
        "backend": args.backend,
        "n": args.n,
        "lookups": args.lookups,
        **figures,
        "load": [load_before, load()],
        "machine": machine(),
    }
    if args.backend == "postgres":
        out["machine"]["postgres"] = pg_version(args.pg_url)
        out["machine"]["autovacuum"] = autovacuum(args.pg_url)
    emit(out)


if __name__ == "__main__":
    main()
