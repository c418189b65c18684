"""Vulnerability impact on the core benchmark's graph: ``SecurityIndex.impact(id)``.

The graph is the one ``bench/impact.py`` builds (``_world.py``: N entries, three relations
each; 20 % SBOMs with embedded CycloneDX documents, 7 % vulnerability advisories), built
with ``apply_many``, so the index is filled by the same after-commit path as any apply.
Timed: the impact of random stored advisories (by id): the findings of the advisory, the
SBOMs and artifacts they reach and every transitive dependent (depth 6), VEX applied.
Prints p50/p99 and the mean number of SBOMs and entries reached.

    python bench/security_impact.py --backend sqlite --n 100000 --starts 50
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

import sqlalchemy as sa

from _common import (
    Backend,
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
from hyper_registry.kinds.security import tables as t
from hyper_registry.kinds.security.index import SecurityIndex


def main() -> None:
    p = parser("vulnerability impact latency")
    p.add_argument("--starts", type=int, default=50, help="random advisories to query")
    p.add_argument("--depth", type=int, default=6)
    p.add_argument("--rels", type=int, default=3)
    p.add_argument("--rebuild", action="store_true")
    args = p.parse_args()
    backend = Backend(args)
    reg, world = graph_registry(backend, args.n, args.rels, args.seed, rebuild=args.rebuild)
    del world
    index = reg.extension(SecurityIndex)
    try:
        with index.read() as conn:
            ids = sorted(
                {r.advisory_id for r in conn.execute(sa.select(t.advisories.c.advisory_id))}
            )
            n_findings = conn.execute(sa.select(sa.func.count()).select_from(t.findings)).scalar()
        if not ids:
            raise SystemExit("the graph holds no indexed advisories")
        rng = random.Random(args.seed + 3)
        starts = [rng.choice(ids) for _ in range(args.starts)]
        settle()
        log(f"{len(ids)} advisories, {n_findings} findings; warming up ...")
        for vid in starts[:3]:
            index.impact(vid, depth=args.depth)
        times: list[float] = []
        sboms: list[int] = []
        reached: list[int] = []

        def run() -> None:
            for vid in starts:
                t0 = time.perf_counter()
                out = index.impact(vid, depth=args.depth)
                times.append((time.perf_counter() - t0) * 1000)
                sboms.append(len(out["sboms"]))
                reached.append(len(out["affected"]))

        load_before = load()
        profiled(args.profile, run)
        result: dict[str, Any] = {
            "bench": "security_impact",
            "backend": args.backend,
            "n": args.n,
            "advisories": len(ids),
            "findings": n_findings,
            "depth": args.depth,
            "starts": len(times),
            "p50_ms": round(percentile(times, 50), 2),
            "p99_ms": round(percentile(times, 99), 2),
            "mean_ms": round(statistics.fmean(times), 2),
            "mean_sboms": round(statistics.fmean(sboms), 1),
            "mean_reached": round(statistics.fmean(reached), 1),
            "load": [load_before, load()],
            "machine": machine(),
        }
        if args.backend == "postgres":
            result["machine"]["postgres"] = pg_version(args.pg_url)
    finally:
        reg.close()
    emit(result)


if __name__ == "__main__":
    main()
