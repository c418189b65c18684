"""File ingest: ``hyper-registry ingest FILE`` of N JSON-lines changes into a fresh store.

Prints one JSON line: entries/s of the registry (``Applier`` + ``ingest_stream``, the
code behind ``hyper-registry ingest``: parse, dedupe by event id, validate, write
through the pipeline, event ids in the same transaction), entries/s of the ceiling (see
``_ingest.py``: parse + plain ``executemany`` of the same entry and relation rows, same
batch size and durability), ``ratio`` = registry / ceiling, and the peak resident
memory of each run (each runs in a fresh child process).

    python bench/ingest_file.py --backend sqlite --n 1000000
    python bench/ingest_file.py --backend postgres --n 100000
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import Backend, emit, load, log, machine, parser, pg_version
from _ingest import CeilingRows, PgCeiling, SqliteCeiling, lines, peak_rss_mb


def child_registry(backend: Backend, path: Path, batch_size: int) -> dict[str, float]:
    from hyper_registry.ingest.applier import Applier
    from hyper_registry.ingest.sources.files import ingest_stream

    reg = backend.fresh_registry()
    applier = Applier(reg, source=str(path))
    with path.open("rb") as fh:
        t0 = time.perf_counter()
        totals = ingest_stream(applier, fh, batch_size=batch_size)
        seconds = time.perf_counter() - t0
    reg.close()
    assert totals.counts["created"] == totals.received, totals.to_dict()
    return {"seconds": seconds, "n": totals.received, "rss_mb": peak_rss_mb()}


def child_ceiling(backend: Backend, path: Path, batch_size: int) -> dict[str, float]:
    reg = backend.fresh_registry()  # the registry's own tables and indexes, empty
    data_dir = Path(reg.settings.data_dir)
    reg.close()
    sink = (
        SqliteCeiling(str(data_dir / "registry.db"))
        if backend.name == "sqlite"
        else PgCeiling(backend.pg_registry_url)
    )
    rows = CeilingRows()
    n = 0
    with path.open("rb") as fh:
        t0 = time.perf_counter()
        batch_e: list[tuple[object, ...]] = []
        batch_r: list[tuple[object, ...]] = []
        for raw in fh:
            e, r = rows.rows(raw)
            batch_e.append(e)
            batch_r.extend(r)
            if len(batch_e) >= batch_size:
                sink.write(batch_e, batch_r)
                n += len(batch_e)
                batch_e, batch_r = [], []
        if batch_e:
            sink.write(batch_e, batch_r)
            n += len(batch_e)
        seconds = time.perf_counter() - t0
    sink.close()
    return {"seconds": seconds, "n": n, "rss_mb": peak_rss_mb()}


def run_child(args: list[str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, stdout=subprocess.PIPE, text=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    p = parser("File ingest benchmark", n=1_000_000)
    p.add_argument("--batch-size", type=int, default=5000)
    p.add_argument("--child", choices=("registry", "ceiling"))
    p.add_argument("--file")
    p.add_argument("--keep-file", action="store_true")
    args = p.parse_args()
    backend = Backend(args)
    if args.child:
        path = Path(args.file)
        fn = child_registry if args.child == "registry" else child_ceiling
        try:
            print(json.dumps(fn(backend, path, args.batch_size)))
        finally:
            backend.cleanup()
        return

    work = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    path = work / "changes.jsonl"
    log(f"writing {args.n:,} lines to {path}")
    with path.open("wb") as fh:
        for raw in lines(args.n):
            fh.write(raw + b"\n")
    common = ["--backend", args.backend, "--file", str(path), "--batch-size", str(args.batch_size),
              "--pg-url", args.pg_url, "--pg-schema", args.pg_schema]  # fmt: skip
    load_before = load()
    log("ceiling")
    ceiling = run_child(["--child", "ceiling", *common])
    log(f"ceiling: {ceiling}")
    log("registry")
    registry = run_child(["--child", "registry", *common])
    log(f"registry: {registry}")
    registry_rate = registry["n"] / registry["seconds"]
    ceiling_rate = ceiling["n"] / ceiling["seconds"]
    figures = {
        "bench": "ingest_file",
        "backend": args.backend,
        "n": args.n,
        "batch_size": args.batch_size,
        "bytes_per_line": round(path.stat().st_size / max(args.n, 1)),
        "entries_per_s": round(registry_rate),
        "ceiling_per_s": round(ceiling_rate),
        "ratio": round(registry_rate / ceiling_rate, 3),
        "target_per_s": 100_000,
        "registry_seconds": round(registry["seconds"], 2),
        "ceiling_seconds": round(ceiling["seconds"], 2),
        "registry_peak_rss_mb": registry["rss_mb"],
        "ceiling_peak_rss_mb": ceiling["rss_mb"],
        "load": [load_before, load()],
        **machine(),
    }
    if args.backend == "postgres":
        figures["postgres"] = pg_version(args.pg_url)
    emit(figures)
    if not args.keep_file:
        path.unlink()
        os.rmdir(work)


if __name__ == "__main__":
    main()
