"""What the benchmarks share: backends, fresh stores, statistics, output."""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hyper_registry import Registry, Settings

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "bench"
BENCH_DIR = Path(__file__).resolve().parent
CACHE_ROOT = Path(tempfile.gettempdir()) / "hyper-registry-bench"

# The same PRAGMAs as hyper_registry/store/engine.py, for the plain-driver ceiling.
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-65536",
    # As the store's own engines: the log is checkpointed by a background thread
    # (hyper_registry.store.checkpoint.Checkpointer), not inside commits.
    "PRAGMA wal_autocheckpoint=0",
)


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


def parser(description: str, *, n: int = 100_000) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--n", type=int, default=n, help="number of entries")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", PG_URL))
    p.add_argument("--pg-schema", default=PG_SCHEMA, help="dropped and recreated per run")
    p.add_argument("--profile", metavar="FILE", help="write a cProfile of the timed part")
    return p


class Backend:
    """A fresh store per call of ``fresh()``: a new SQLite file or a recreated PG schema."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.name: str = args.backend
        self.pg_url: str = args.pg_url
        self.schema: str = args.pg_schema
        self._tmp: Path | None = None

    @property
    def pg_registry_url(self) -> str:
        return f"{self.pg_url}?options=-csearch_path%3D{self.schema}"

    def reset_pg(self) -> None:
        import psycopg

        with psycopg.connect(self.pg_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
            conn.execute(f'CREATE SCHEMA "{self.schema}"')

    def fresh_dir(self) -> Path:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
        CACHE_ROOT.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix="run-", dir=CACHE_ROOT))
        return self._tmp

    def settings(self, data_dir: Path) -> Settings:
        if self.name == "sqlite":
            return Settings(data_dir=data_dir)
        return Settings(data_dir=data_dir, database_url=self.pg_registry_url)

    def fresh_registry(self) -> Registry:
        """An empty, migrated registry (the old one's files or schema are gone)."""
        data_dir = self.fresh_dir()
        if self.name == "postgres":
            self.reset_pg()
        return Registry.open(self.settings(data_dir))

    def cleanup(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100), linear interpolation between closest ranks."""
    s = sorted(values)
    if not s:
        return float("nan")
    pos = (len(s) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    return info


def pg_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def emit(figures: dict[str, Any]) -> None:
    """The one JSON line on stdout."""
    sys.stdout.write(json.dumps(figures, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def settle() -> None:
    """Collect, then freeze what exists: the generated documents are the benchmark's data,
    not the registry's, and must not make the collector's full passes slower."""
    gc.collect()
    gc.freeze()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def profiled(path: str | None, fn: Callable[[], Any]) -> Any:
    """Run ``fn`` under cProfile when ``path`` is given (the profile is dumped there)."""
    if not path:
        return fn()
    import cProfile

    prof = cProfile.Profile()
    try:
        return prof.runcall(fn)
    finally:
        prof.dump_stats(path)
        log(f"profile written to {path}")


def source_fingerprint(*files: Path) -> str:
    """A short hash of files whose change must invalidate a cached store."""
    h = hashlib.sha256()
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def graph_registry(
    backend: Backend, n: int, rels: int, seed: int, *, rebuild: bool = False
) -> tuple[Registry, Any]:
    """A registry holding the generated world (built with ``apply_many``) and the world.

    SQLite: the store is built once and cached under ``CACHE_ROOT`` (keyed by size,
    relations, seed and a hash of the generator and the schema), then reopened.
    PostgreSQL: the schema is dropped, recreated and filled on every run.
    """
    import _world

    world = _world.build(n, rels, seed)
    import hyper_registry

    src = Path(hyper_registry.__path__[0])
    fp = source_fingerprint(
        BENCH_DIR / "_world.py", src / "store" / "schema.py", src / "store" / "resolve.py"
    )
    if backend.name == "sqlite":
        cache = CACHE_ROOT / f"graph-n{n}-r{rels}-s{seed}-{fp}"
        done = cache / "complete"
        if rebuild and cache.exists():
            shutil.rmtree(cache)
        if done.exists():
            log(f"reusing cached store {cache}")
            return Registry.open(backend.settings(cache)), world
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        reg = Registry.open(backend.settings(cache))
    else:
        reg = backend.fresh_registry()
    log(f"building the store: {n} entries, {rels} relations each ...")
    t0 = time.perf_counter()
    # autovacuum is off on the benchmark's PostgreSQL server: analyse as it would.
    every = 10_000 if backend.name == "postgres" else 0
    report = reg.apply_many(
        world.docs, atomic=False, batch_size=1000, progress=analyzer(reg, every)
    )
    if report.errors:
        raise SystemExit(f"building the store refused documents: {report.errors[0]}")
    log(f"  built in {time.perf_counter() - t0:.0f}s")
    if backend.name == "sqlite":
        with reg.store.engine.connect() as conn:
            # No ANALYZE: the registry never runs it, so neither does the benchmark.
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        (cache / "complete").write_text(f"{n} entries, {rels} relations each, seed {seed}\n")
    else:
        # Autovacuum analyses a table after this many inserts anyway; do it now, so the
        # figures are those of the steady state and not of the first minute.
        with reg.store.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    return reg, world


def analyzer(reg: Registry, every: int) -> Callable[[int], None] | None:
    """A progress callback that runs ANALYZE every ``every`` entries (PostgreSQL only).

    PostgreSQL's autovacuum analyses a table once about 10 % of it changed; with
    autovacuum off (as on the benchmark server) the planner has no statistics at all.
    """
    if every <= 0 or reg.store.engine.dialect.name != "postgresql":
        return None
    state = {"done": 0, "next": every}

    def progress(count: int) -> None:
        state["done"] += count
        if state["done"] >= state["next"]:
            state["next"] += every
            with reg.store.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE entries")
                conn.exec_driver_sql("ANALYZE relations")
                conn.exec_driver_sql("ANALYZE aliases")
                conn.commit()

    return progress


def autovacuum(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW autovacuum").fetchone()
    return str(row[0]) if row else "?"


def load() -> list[float]:
    """The 1-, 5- and 15-minute load averages (other work on the machine skews figures)."""
    return [round(x, 2) for x in os.getloadavg()]
