"""Bulk register: ``Registry.apply_many`` of N mixed-kind documents into a fresh store.

Prints one JSON line: entries/s of the registry (atomic and non-atomic bulk), entries/s
of the ceiling (a plain driver ``executemany`` of the same entry and relation rows into
the same tables, one transaction per batch) and ``ratio`` = registry / ceiling.

    python bench/bulk_register.py --backend sqlite --n 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

import _world
from _common import (
    SQLITE_PRAGMAS,
    Backend,
    analyzer,
    autovacuum,
    emit,
    load,
    log,
    machine,
    median,
    parser,
    pg_version,
    profiled,
    settle,
)
from hyper_registry import Registry
from hyper_registry.core import relations as vocab
from hyper_registry.core.ids import timestamp, uuid7
from hyper_registry.core.versioning import Versioning, version_key
from hyper_registry.store.checkpoint import Checkpointer
from hyper_registry.store.engine import make_engine
from hyper_registry.store.schema import entries, relations

ENTRY_COLS = (
    "id", "uid", "ref_key", "kind", "namespace", "name", "version", "version_key", "owner",
    "title", "body", "status", "revision", "content_hash", "created_at", "updated_at",
)  # fmt: skip
RELATION_COLS = (
    "owner_id", "declared", "type", "impact_fwd", "origin",
    "src_kind", "src_ns", "src_name", "src_ver", "src_id",
    "dst_kind", "dst_ns", "dst_name", "dst_ver", "dst_id",
    "src_pinned", "dst_pinned",
)  # fmt: skip
SEMVER_KINDS = {"plugin", "service", "model", "infra"}

Row = tuple[Any, ...]


def _split(ref: str) -> tuple[str, str, str, str]:
    kind, rest = ref.split(":", 1)
    ns, rest = rest.split("/", 1)
    name, _, ver = rest.partition("@")
    return kind, ns, name, ver


def ceiling_rows(world: _world.World) -> tuple[list[Row], list[list[Row]]]:
    """The rows the registry stores for each document: one entry row, its relation rows."""
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    now_s = timestamp(now)
    entry_rows: list[Row] = []
    relation_rows: list[list[Row]] = []
    stored: set[tuple[str, str, str, str]] = set()

    def pinned(ref: tuple[str, str, str, str]) -> bool:
        return bool(ref[3]) and ref in stored

    for i, doc in enumerate(world.docs):
        md = doc["metadata"]
        kind = doc["kind"]
        ref_key = f"{kind}:{md['namespace']}/{md['name']}@{md['version']}"
        body = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
        versioning: Versioning = "semver" if kind in SEMVER_KINDS else "time"
        entry_id = i + 1
        entry_rows.append(
            (
                entry_id, uuid7(), ref_key, kind, md["namespace"], md["name"], md["version"],
                version_key(versioning, md["version"], now), md.get("owner"), md.get("title"),
                body.decode(), "{}", 1, "sha256:" + hashlib.sha256(body).hexdigest(),
                now_s, now_s,
            )
        )  # fmt: skip
        me = (kind, md["namespace"], md["name"], md["version"])
        rows: list[Row] = []
        for declared, target in world.relations[i]:
            looked = vocab.lookup(declared)
            assert looked is not None
            rtype, canonical = looked
            dst = _split(target)
            src, dst = (me, dst) if canonical else (dst, me)
            origin = "declared" if any(
                r.get("type") == declared and r.get("target") == target
                for r in doc.get("relations", ())
            ) else "spec"  # fmt: skip
            rows.append(
                (
                    entry_id, declared, rtype.name, rtype.impact == "forward", origin,
                    *src, entry_id if canonical else None,
                    *dst, None if canonical else entry_id,
                    # Pinned (out of the name indexes), as the registry stores it: the
                    # owner's end, and an exact version stored already.
                    canonical or pinned(src), not canonical or pinned(dst),
                )
            )  # fmt: skip
        relation_rows.append(rows)
        stored.add(me)
    return entry_rows, relation_rows


def _batches(
    entry_rows: Sequence[Row], relation_rows: Sequence[Sequence[Row]], size: int
) -> list[tuple[Sequence[Row], list[Row]]]:
    out = []
    for start in range(0, len(entry_rows), size):
        rels = [r for rows in relation_rows[start : start + size] for r in rows]
        out.append((entry_rows[start : start + size], rels))
    return out


# Index sets of the ceiling (``--ceiling-variants``): which secondary indexes stay.
# "full" is the registry's schema; the unique keys (``ref_key``, ``uid``) always stay.
INDEX_SETS: dict[str, tuple[set[str] | None, set[str] | None]] = {
    "full": (None, None),
    "no_entry_indexes": (set(), None),
    # What the graph queries (dependencies, dependents, impact) cannot do without.
    "graph_only": (set(), {"ix_relations_src_id", "ix_relations_dst_id"}),
    "unique_keys_only": (set(), set()),
}


def _create_tables(backend: Backend, data_dir: Path, *, indexes: str = "full") -> None:
    """The registry's own ``entries`` and ``relations`` definitions (same columns, indexes).

    ``indexes`` names an ``INDEX_SETS`` entry: the secondary indexes kept (None: all of
    the table's); the unique keys of ``entries`` always stay.
    """
    keep_entries, keep_relations = INDEX_SETS[indexes]
    engine = make_engine(backend.settings(data_dir))
    try:
        with engine.begin() as conn:
            entries.metadata.create_all(conn, tables=[entries, relations])
            for table, keep in ((entries, keep_entries), (relations, keep_relations)):
                for index in table.indexes:
                    if keep is not None and index.name not in keep:
                        index.drop(conn)
    finally:
        engine.dispose()


def ceiling_sqlite(
    backend: Backend, batches: Sequence[tuple[Sequence[Row], list[Row]]], *, indexes: str = "full"
) -> float:
    data_dir = backend.fresh_dir()
    _create_tables(backend, data_dir, indexes=indexes)
    conn = sqlite3.connect(data_dir / "registry.db", isolation_level=None)
    for pragma in SQLITE_PRAGMAS:
        conn.execute(pragma)
    ins_e = (
        f"INSERT INTO entries ({', '.join(ENTRY_COLS)}) VALUES ({', '.join('?' * len(ENTRY_COLS))})"
    )
    ins_r = (
        f"INSERT INTO relations ({', '.join(RELATION_COLS)}) "
        f"VALUES ({', '.join('?' * len(RELATION_COLS))})"
    )
    checkpointer = Checkpointer(str(data_dir / "registry.db"))  # as the registry's store
    gc.collect()
    t0 = time.perf_counter()
    for erows, rrows in batches:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(ins_e, erows)
        conn.executemany(ins_r, rrows)
        conn.execute("COMMIT")
        checkpointer.nudge()
    elapsed = time.perf_counter() - t0
    checkpointer.close()
    conn.close()
    return elapsed


def ceiling_pg(
    backend: Backend,
    batches: Sequence[tuple[Sequence[Row], list[Row]]],
    *,
    copy: bool,
    indexes: str = "full",
) -> float:
    import psycopg

    data_dir = backend.fresh_dir()
    backend.reset_pg()
    _create_tables(backend, data_dir, indexes=indexes)
    ins_e = f"INSERT INTO entries ({', '.join(ENTRY_COLS)}) VALUES ({', '.join(['%s'] * len(ENTRY_COLS))})"
    ins_r = (
        f"INSERT INTO relations ({', '.join(RELATION_COLS)}) "
        f"VALUES ({', '.join(['%s'] * len(RELATION_COLS))})"
    )
    copy_e = f"COPY entries ({', '.join(ENTRY_COLS)}) FROM STDIN"
    copy_r = f"COPY relations ({', '.join(RELATION_COLS)}) FROM STDIN"
    with psycopg.connect(backend.pg_registry_url) as conn:
        gc.collect()
        t0 = time.perf_counter()
        for erows, rrows in batches:
            with conn.transaction(), conn.cursor() as cur:
                if copy:
                    with cur.copy(copy_e) as cp:
                        for row in erows:
                            cp.write_row(row)
                    with cur.copy(copy_r) as cp:
                        for row in rrows:
                            cp.write_row(row)
                else:
                    cur.executemany(ins_e, erows)
                    cur.executemany(ins_r, rrows)
        elapsed = time.perf_counter() - t0
    return elapsed


def registry_run(
    backend: Backend,
    docs: Sequence[dict[str, Any]],
    *,
    atomic: bool,
    batch_size: int,
    analyze_every: int = 0,
    profile: str | None = None,
) -> float:
    reg: Registry = backend.fresh_registry()
    try:
        progress = analyzer(reg, analyze_every)
        gc.collect()
        t0 = time.perf_counter()
        report = profiled(
            profile,
            lambda: reg.apply_many(docs, atomic=atomic, batch_size=batch_size, progress=progress),
        )
        elapsed = time.perf_counter() - t0
        counts = report.counts()
        if counts["created"] != len(docs):
            first = report.errors[0] if report.errors else None
            raise SystemExit(f"registry refused documents: {counts}; first: {first}")
    finally:
        reg.close()
    return elapsed


def main() -> None:
    p = parser("bulk register throughput against a plain-driver ceiling")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=1000)
    p.add_argument("--rels", type=int, default=2, help="relations per entry")
    p.add_argument("--atomic", choices=("true", "false", "both"), default="false")
    p.add_argument("--no-ceiling", action="store_true")
    p.add_argument(
        "--ceiling-variants",
        action="store_true",
        help="also measure the ceiling with fewer secondary indexes: none on entries; only "
        "relations' src_id/dst_id (what graph queries need); none at all (unique keys only)",
    )
    p.add_argument(
        "--pg-analyze-every",
        type=int,
        default=0,
        metavar="N",
        help="PostgreSQL: ANALYZE every N entries during the timed run, as autovacuum would "
        "(the time it takes is counted); 0: never",
    )
    args: argparse.Namespace = p.parse_args()
    backend = Backend(args)
    modes = {"true": [True], "false": [False], "both": [False, True]}[args.atomic]

    log(f"generating {args.n} documents with {args.rels} relations each ...")
    t0 = time.perf_counter()
    world = _world.build(args.n, args.rels, args.seed)
    entry_rows, relation_rows = ceiling_rows(world)
    batches = _batches(entry_rows, relation_rows, args.batch_size)
    n_rel = sum(len(r) for r in relation_rows)
    body_bytes = sum(len(r[10]) for r in entry_rows) / len(entry_rows)
    log(f"  done in {time.perf_counter() - t0:.1f}s; {n_rel} relations, {body_bytes:.0f} B/doc")
    settle()

    if args.profile:
        elapsed = registry_run(
            backend,
            world.docs,
            atomic=modes[0],
            batch_size=args.batch_size,
            analyze_every=args.pg_analyze_every,
            profile=args.profile,
        )
        backend.cleanup()
        emit({"bench": "bulk_register", "backend": args.backend, "n": args.n, "profiled": True,
              "atomic": modes[0], "entries_per_s": round(args.n / elapsed)})  # fmt: skip
        return

    load_before = load()
    ceiling: list[float] = []
    ceiling_copy: list[float] = []
    variants: dict[str, list[float]] = {name: [] for name in INDEX_SETS if name != "full"}
    reg_times: dict[bool, list[float]] = {m: [] for m in modes}
    for rep in range(args.repeat):
        if not args.no_ceiling:
            if args.backend == "sqlite":
                t = ceiling_sqlite(backend, batches)
            else:
                t = ceiling_pg(backend, batches, copy=False)
                tc = ceiling_pg(backend, batches, copy=True)
                ceiling_copy.append(args.n / tc)
                log(f"[{rep + 1}/{args.repeat}] ceiling COPY: {args.n / tc:,.0f} entries/s")
            ceiling.append(args.n / t)
            log(f"[{rep + 1}/{args.repeat}] ceiling executemany: {args.n / t:,.0f} entries/s")
            if args.ceiling_variants:
                for name, rates in variants.items():
                    if args.backend == "sqlite":
                        t = ceiling_sqlite(backend, batches, indexes=name)
                    else:
                        t = ceiling_pg(backend, batches, copy=False, indexes=name)
                    rates.append(args.n / t)
                    log(f"[{rep + 1}/{args.repeat}] ceiling, indexes {name}: {args.n / t:,.0f}/s")
        for atomic in modes:
            t = registry_run(
                backend,
                world.docs,
                atomic=atomic,
                batch_size=args.batch_size,
                analyze_every=args.pg_analyze_every,
            )
            reg_times[atomic].append(args.n / t)
            log(f"[{rep + 1}/{args.repeat}] registry atomic={atomic}: {args.n / t:,.0f} entries/s")
    backend.cleanup()

    out: dict[str, Any] = {
        "bench": "bulk_register",
        "backend": args.backend,
        "n": args.n,
        "relations": n_rel,
        "doc_bytes": round(body_bytes),
        "batch_size": args.batch_size,
        "repeat": args.repeat,
    }
    for atomic in modes:
        key = "atomic" if atomic else "nonatomic"
        out[f"entries_per_s_{key}"] = round(median(reg_times[atomic]))
    if ceiling:
        out["ceiling_per_s"] = round(median(ceiling))
        for atomic in modes:
            key = "atomic" if atomic else "nonatomic"
            out[f"ratio_{key}"] = round(median(reg_times[atomic]) / median(ceiling), 3)
    if ceiling_copy:
        out["ceiling_copy_per_s"] = round(median(ceiling_copy))
    for name, rates in variants.items():
        if rates:
            out[f"ceiling_{name}_per_s"] = round(median(rates))
    first = "atomic" if modes[0] else "nonatomic"
    out["entries_per_s"] = out[f"entries_per_s_{first}"]
    if ceiling:
        out["ratio"] = out[f"ratio_{first}"]
    out["load"] = [load_before, load()]
    out["machine"] = machine()
    if args.backend == "postgres":
        out["pg_analyze_every"] = args.pg_analyze_every
        out["machine"]["postgres"] = pg_version(args.pg_url)
        out["machine"]["autovacuum"] = autovacuum(args.pg_url)
    emit(out)


if __name__ == "__main__":
    main()
