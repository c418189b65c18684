"""Lineage graph latency: ``build_lineage_graph(ref, direction, depth=10)``.

The store holds ``--n`` datasets (default 10,000), each ``derivedFrom`` ``--fanin``
others (default 3: 30,000 edges), declared in ``spec.upstream`` as real documents do.
Two shapes are built and measured in the same run:

* ``local``: a pipeline-like graph: each dataset reads from datasets up to ``--window``
  positions before it (wrapping around at the start, so there are cycles);
* ``uniform``: each dataset reads from datasets drawn uniformly from the whole graph
  (the worst case: a depth-10 walk reaches nearly every dataset).

For each shape, ``--starts`` random datasets are walked upstream, downstream and both
ways at depth 10; the figures are p50 and p99 in milliseconds over all walks, the
average number of nodes reached, and ``target_ratio`` = p50 / 50 ms (the issue's
target: at most 50 ms p50 on SQLite; below 1 meets it).

    python bench/lineage.py --backend sqlite --n 10000 --starts 100
"""

from __future__ import annotations

import random
import time
from typing import Any

from _common import Backend, emit, load, log, machine, parser, percentile, settle
from hyper_registry.graph.lineage import build_lineage_graph

TARGET_MS = 50.0


def documents(n: int, fanin: int, window: int | None, seed: int) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    docs = []
    for i in range(n):
        if window is None:
            ups = rnd.sample(range(n), fanin + 1)
        else:
            ups = [(i - rnd.randint(1, window)) % n for _ in range(fanin + 1)]
        ups = [u for u in dict.fromkeys(ups) if u != i][:fanin]
        docs.append(
            {
                "apiVersion": "hyper-registry/v1",
                "kind": "dataset",
                "metadata": {"namespace": "bench", "name": f"ds-{i:05d}", "version": "1"},
                "spec": {
                    "format": "parquet",
                    "upstream": [f"dataset:bench/ds-{u:05d}" for u in ups],
                },
            }
        )
    return docs


def main() -> None:
    p = parser(__doc__ or "", n=10_000)
    p.add_argument("--fanin", type=int, default=3)
    p.add_argument("--window", type=int, default=50)
    p.add_argument("--starts", type=int, default=100)
    p.add_argument("--depth", type=int, default=10)
    p.set_defaults(pg_schema="bench_lineage")  # not the core benchmarks' schema
    args = p.parse_args()
    backend = Backend(args)
    out: dict[str, Any] = {
        "bench": "lineage",
        "backend": args.backend,
        "datasets": args.n,
        "edges_per_dataset": args.fanin,
        "depth": args.depth,
        "starts": args.starts,
        "target_p50_ms": TARGET_MS,
    }
    try:
        for shape, window in (("local", args.window), ("uniform", None)):
            reg = backend.fresh_registry()
            try:
                log(f"{shape}: registering {args.n} datasets ...")
                t0 = time.perf_counter()
                docs = documents(args.n, args.fanin, window, args.seed)
                report = reg.apply_many(docs, atomic=False, batch_size=1000)
                if report.errors:
                    raise SystemExit(f"refused: {report.errors[0]}")
                edges = sum(len(d["spec"]["upstream"]) for d in docs)
                if args.backend == "postgres":
                    # The benchmark server runs without autovacuum: analyse as it would.
                    with reg.store.engine.connect() as conn:
                        conn.exec_driver_sql("ANALYZE")
                        conn.commit()
                log(f"  built in {time.perf_counter() - t0:.1f}s ({edges} edges)")
                settle()
                rnd = random.Random(args.seed + 1)
                starts = [
                    f"dataset:bench/ds-{rnd.randrange(args.n):05d}" for _ in range(args.starts)
                ]
                for ref in starts[:5]:  # warm the caches
                    build_lineage_graph(reg, ref, "both", args.depth)
                times: list[float] = []
                reached: list[int] = []
                for ref in starts:
                    for direction in ("upstream", "downstream", "both"):
                        t = time.perf_counter()
                        g = build_lineage_graph(reg, ref, direction, args.depth)
                        times.append((time.perf_counter() - t) * 1000)
                        reached.append(len(g.nodes))
                p50 = percentile(times, 50)
                out[shape] = {
                    "edges": edges,
                    "p50_ms": round(p50, 2),
                    "p99_ms": round(percentile(times, 99), 2),
                    "avg_nodes_reached": round(sum(reached) / len(reached), 1),
                    "target_ratio": round(p50 / TARGET_MS, 3),
                }
                log(f"  {shape}: {out[shape]}")
            finally:
                reg.close()
    finally:
        backend.cleanup()
    out["machine"] = machine()
    out["load"] = load()
    emit(out)


if __name__ == "__main__":
    main()
