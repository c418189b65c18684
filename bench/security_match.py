"""Import and match one 1,000-component SBOM against 50,000 stored advisories.

Setup (not timed): a fresh registry, 50,000 generated OSV-shaped advisories across six
ecosystems imported through ``SecurityIndex.import_advisories``. Timed: ``import_sbom``
of a 1,000-component CycloneDX JSON document (parse + schema validation, entry write,
components, candidate pre-filter in SQL, ecosystem version matching, findings), repeated
with a new SBOM each time; the median is printed with the target (1 s) and the ratio.

    python bench/security_match.py --backend sqlite --advisories 50000 --components 1000
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from _common import Backend, emit, load, log, machine, parser, pg_version, profiled, settle
from _security_data import advisory, sbom
from hyper_registry.kinds.security.formats import parse_advisory
from hyper_registry.kinds.security.index import SecurityIndex

TARGET_S = 1.0


def main() -> None:
    p = parser("SBOM import and match against stored advisories", n=50_000)
    p.add_argument("--components", type=int, default=1000)
    p.add_argument("--packages", type=int, default=20_000, help="packages per ecosystem")
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    backend = Backend(args)
    reg = backend.fresh_registry()
    index = reg.extension(SecurityIndex)
    rng = random.Random(args.seed)
    try:
        log(f"setup: {args.n} advisories ...")
        t0 = time.perf_counter()
        records = (parse_advisory(advisory(rng, i, args.packages)) for i in range(args.n))
        setup = index.import_advisories(records, namespace="advisories")
        log(f"  {setup['created']} stored in {time.perf_counter() - t0:.0f}s")
        docs = [sbom(rng, f"app{i}", args.components, args.packages) for i in range(args.repeat)]
        settle()
        index.import_sbom(sbom(rng, "warmup", args.components, args.packages))
        times: list[float] = []
        findings: list[int] = []

        def run() -> None:
            for data in docs:
                t = time.perf_counter()
                report: dict[str, Any] = index.import_sbom(data)
                times.append(time.perf_counter() - t)
                findings.append(int(report["newFindings"]))

        load_before = load()
        profiled(args.profile, run)
        med = statistics.median(times)
        out: dict[str, Any] = {
            "bench": "security_match",
            "backend": args.backend,
            "advisories": setup["created"],
            "components": args.components,
            "repeat": len(times),
            "median_s": round(med, 3),
            "min_s": round(min(times), 3),
            "max_s": round(max(times), 3),
            "findings_per_sbom": round(statistics.fmean(findings), 1),
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
