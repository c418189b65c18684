"""1,000 new advisories arriving against 1,000 stored SBOMs of 300 components each.

Setup (not timed): a fresh registry; 1,000 SBOM entries written through the pipeline and
their 300,000 components stored in the index (no advisories yet). Timed: one
``import_advisories`` of 1,000 generated OSV-shaped advisories (entry writes, candidate
pre-filter over the stored components, ecosystem version matching, findings). Repeated
on fresh advisory ids; the median is printed with the target (10 s) and the ratio.

    python bench/security_rematch.py --backend sqlite --sboms 1000 --components 300
"""

from __future__ import annotations

import hashlib
import random
import statistics
import time
from typing import Any

from _common import Backend, emit, load, log, machine, parser, pg_version, profiled, settle
from _security_data import advisory, sbom
from hyper_registry.kinds.security.formats import parse_advisory, parse_sbom
from hyper_registry.kinds.security.index import Owner, SecurityIndex

TARGET_S = 10.0


def main() -> None:
    p = parser("re-matching stored components against new advisories", n=1000)
    p.add_argument("--sboms", type=int, default=1000)
    p.add_argument("--components", type=int, default=300)
    p.add_argument("--packages", type=int, default=20_000, help="packages per ecosystem")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    backend = Backend(args)
    reg = backend.fresh_registry()
    index = reg.extension(SecurityIndex)
    rng = random.Random(args.seed)
    try:
        log(f"setup: {args.sboms} SBOMs x {args.components} components ...")
        t0 = time.perf_counter()
        docs = []
        for i in range(args.sboms):
            data = sbom(rng, f"app{i}", args.components, args.packages)
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            docs.append(
                (
                    {
                        "apiVersion": "hyper-registry/v1",
                        "kind": "security",
                        "metadata": {"namespace": "apps", "name": f"app{i}-sbom", "version": "1"},
                        "spec": {"type": "sbom", "format": "cyclonedx", "digest": digest},
                    },
                    data,
                    digest,
                )
            )
        reg.apply_many([d[0] for d in docs], atomic=False)
        for start in range(0, len(docs), 50):
            with index.tx() as conn:
                for doc, data, digest in docs[start : start + 50]:
                    entry = reg.get(f"security:apps/{doc['metadata']['name']}@1")
                    index.add_sbom(
                        conn,
                        Owner(entry.uid, entry.ref, entry.revision),
                        parse_sbom(data),
                        linked=None,
                        digest=digest,
                        match=False,
                    )
        log(f"  stored in {time.perf_counter() - t0:.0f}s")
        batches = [
            [parse_advisory(advisory(rng, r * args.n + i, args.packages)) for i in range(args.n)]
            for r in range(args.repeat)
        ]
        del docs
        settle()
        times: list[float] = []
        found: list[int] = []

        def run() -> None:
            for batch in batches:
                t = time.perf_counter()
                report: dict[str, Any] = index.import_advisories(batch, namespace="advisories")
                times.append(time.perf_counter() - t)
                found.append(int(report["newFindings"]))

        load_before = load()
        profiled(args.profile, run)
        med = statistics.median(times)
        out: dict[str, Any] = {
            "bench": "security_rematch",
            "backend": args.backend,
            "sboms": args.sboms,
            "components": args.sboms * args.components,
            "advisories_per_run": args.n,
            "repeat": len(times),
            "median_s": round(med, 3),
            "min_s": round(min(times), 3),
            "max_s": round(max(times), 3),
            "new_findings_per_run": round(statistics.fmean(found), 1),
            "target_s": TARGET_S,
            "ratio_to_target": round(med / TARGET_S, 2),
            "load": [load_before, load()],
            "machine": machine(),
        }
        if args.backend == "postgres":
            out["machine"]["postgres"] = pg_version(args.pg_url)
    finally:
        reg.close()
        backend.cleanup()
    emit(out)


if __name__ == "__main__":
    main()
