"""Impact analysis: ``Registry.impact(ref, depth=6)`` on a graph of N entries with three
relations each (100,000 entries, 300,000 relations by default).

Prints one JSON line: p50 / p99 / mean latency in ms over random start nodes (uniform
over all entries), the mean number of nodes reached, and the same figures for starts
at vulnerability advisories (the "CVE published: what is affected?" question).
On SQLite the store is built once and cached under /tmp/hyper-registry-bench
(``--rebuild`` forces a new one); on PostgreSQL the schema is rebuilt every run.

    python bench/impact.py --backend sqlite --n 100000 --starts 200
"""

from __future__ import annotations

import argparse
import random
import statistics
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


def measure(reg: Registry, starts: Sequence[str], depth: int) -> tuple[list[float], list[int]]:
    times: list[float] = []
    reached: list[int] = []
    for ref in starts:
        t0 = time.perf_counter()
        hits = reg.impact(ref, depth=depth)
        times.append((time.perf_counter() - t0) * 1000)
        reached.append(len(hits))
    return times, reached


def summary(times: Sequence[float], reached: Sequence[int]) -> dict[str, Any]:
    return {
        "p50_ms": round(percentile(times, 50), 2),
        "p99_ms": round(percentile(times, 99), 2),
        "mean_ms": round(statistics.fmean(times), 2),
        "mean_reached": round(statistics.fmean(reached), 1),
        "p50_reached": round(percentile(reached, 50)),
        "max_reached": max(reached),
    }


def main() -> None:
    p = parser("impact analysis latency")
    p.add_argument("--starts", type=int, default=200, help="random start nodes")
    p.add_argument("--vuln-starts", type=int, default=100, help="start nodes among advisories")
    p.add_argument("--depth", type=int, default=6)
    p.add_argument("--rels", type=int, default=3, help="relations per entry")
    p.add_argument("--rebuild", action="store_true", help="do not reuse a cached SQLite store")
    args: argparse.Namespace = p.parse_args()
    backend = Backend(args)
    reg, world = graph_registry(backend, args.n, args.rels, args.seed, rebuild=args.rebuild)
    n_rel = sum(len(r) for r in world.relations)
    try:
        rng = random.Random(args.seed + 2)
        refs = world.refs()
        starts = [rng.choice(refs) for _ in range(args.starts)]
        vulns = [r for r in refs if r.startswith("security:advisories/")]
        vuln_starts = [rng.choice(vulns) for _ in range(args.vuln_starts)] if vulns else []
        del world, refs, vulns
        settle()
        log("warming up ...")
        measure(reg, starts[:10], args.depth)
        load_before = load()
        times, reached = profiled(args.profile, lambda: measure(reg, starts, args.depth))
        out: dict[str, Any] = {
            "bench": "impact",
            "backend": args.backend,
            "n": args.n,
            "relations": n_rel,
            "depth": args.depth,
            "starts": len(starts),
            **summary(times, reached),
        }
        log(f"uniform starts: {summary(times, reached)}")
        if vuln_starts:
            vt, vr = measure(reg, vuln_starts, args.depth)
            out["from_vulnerability"] = {"starts": len(vuln_starts), **summary(vt, vr)}
            log(f"vulnerability starts: {out['from_vulnerability']}")
    finally:
        reg.close()
    out["load"] = [load_before, load()]
    out["machine"] = machine()
    if args.backend == "postgres":
        out["machine"]["postgres"] = pg_version(args.pg_url)
        out["machine"]["autovacuum"] = autovacuum(args.pg_url)
    emit(out)


if __name__ == "__main__":
    main()
