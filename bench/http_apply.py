"""Writes over HTTP: entries/s for single documents at concurrency 16 and for 1,000-document
batches, on SQLite with ``synchronous=FULL`` and group commit on (the defaults).

Every window gets a fresh server (uvicorn, one worker, its own process) over a fresh
SQLite registry holding the demo organisation and a writer token; the load generator
of ``http_get.py`` drives it from this process over loopback. Every document is a new
model version with a distinct reference (``model:bench/w<window>-c<conn>-<n>@1.0.0``),
trained on a demo dataset (so each write also resolves one relation).

* ``single``: ``POST /v1/entries`` (create only, 201), one document per request,
  ``--conns`` connections (16): the concurrent single writes share group commits.
* ``single-apply``: the same through ``POST /v1/apply`` with one document (200).
* ``batch``: ``POST /v1/apply`` with a JSON list of ``--batch`` (1,000) documents
  (atomic, one transaction), one connection, one batch after another. Entries/s is
  documents / the summed latency of the batches of the window (the client's time to
  build the next body is left out).
* ``bare-post`` and ``bare-post-thread`` (not run by default): the HTTP floor of a
  write, a FastAPI route that parses the same JSON body and answers 201, without and
  with one ``run_in_threadpool`` hop of a no-op (every registry write makes that hop).

Per window: entries/s, p50 and p99 request latency, the server's CPU per entry (from
/proc: all threads, then split by thread: the event loop (main thread), anyio's thread
pool, the group-commit thread; and user / system), the cores the server and the
client used, and from inside the server (the registry's ``pipeline.prepare`` and
``pipeline.commit`` wrapped with thread CPU clocks): commits and documents per commit,
the CPU spent validating (``prepare``) and committing (``commit``: SQL and the sync),
and the commit's wall time (``commit_wall_share`` near 1 means the group-commit
thread never rests). A ``fdatasync`` probe on the same disk tells what one durable
commit costs at least. The JSON line carries the medians over ``--repeats`` windows
per mode, and MLflow's figures from the issue as labelled constants (not measured).

    python bench/http_apply.py                                  # single and batch, 3 x 5 s
    python bench/http_apply.py --modes single single-apply batch bare-post bare-post-thread
    HYPER_REGISTRY_GROUP_COMMIT=false python bench/http_apply.py --modes single

``--verify`` counts, after each window, the benchmark's entries the store holds (through
the search API); ``--profile PREFIX`` runs each server's event loop under cProfile.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from starlette.responses import Response

from http_get import (
    HOST,
    MLFLOW_REFERENCE,
    RequestMaker,
    ServerProcess,
    Window,
    emit,
    get_json,
    log,
    machine,
    med,
    percentile,
    profiling,
    run_load,
    sqlite_facts,
    uvicorn_options,
    wait_for_quiet,
    write_ready,
)

MODES = ("single", "single-apply", "batch", "bare-post", "bare-post-thread", "null-commit")
TARGET_SINGLE_PER_S = 4000
NAMESPACE = "bench"

# One model version; @NAME@ is replaced by a distinct name per document.
DOC_TEMPLATE = (
    b'{"apiVersion":"hyper-registry/v1","kind":"model","metadata":{"namespace":"bench",'
    b'"name":"@NAME@","version":"1.0.0","title":"Benchmark model","description":'
    b'"A gradient-boosted fraud scorer registered by the HTTP write benchmark.",'
    b'"owner":"team-bench","labels":{"tier":"silver"},"tags":["xgboost","bench"]},'
    b'"spec":{"framework":"xgboost","task":"binary-classification",'
    b'"trainingDatasets":["dataset:risk/transactions@2026-04"],'
    b'"run":{"id":"3f9c2a7e51d84b0c9e6a1f2b7d4c8e90"},'
    b'"metrics":{"accuracy":0.99,"precision":0.91,"recall":0.78,"f1":0.84,"auc":0.96},'
    b'"primaryMetric":"auc"}}'
)


# -- the server process ----------------------------------------------------------------


class Probe:
    """CPU (thread clock) and wall time of wrapped calls, counted in the server."""

    def __init__(self) -> None:
        self.calls = 0
        self.items = 0
        self.cpu = 0.0
        self.wall = 0.0

    def wrap(self, fn: Callable[..., Any], count_items: bool = False) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            c0, w0 = time.thread_time(), time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.cpu += time.thread_time() - c0
                self.wall += time.perf_counter() - w0
                self.calls += 1
                if count_items:
                    self.items += len(args[0])

        return wrapped

    def snapshot(self) -> dict[str, float]:
        return {"calls": self.calls, "items": self.items, "cpu": self.cpu, "wall": self.wall}


def run_server(app: Any, args: argparse.Namespace) -> None:
    """What api/server.py's run() does, with the app built here (for the stats route)."""
    import uvicorn

    with profiling(args.profile):
        uvicorn.run(
            app, host=HOST, port=args.port, workers=1, proxy_headers=False, **uvicorn_options()
        )


def serve_bare(args: argparse.Namespace) -> None:
    """The HTTP floor of a write: FastAPI reads and parses the JSON body, answers 201."""
    import orjson
    from fastapi import FastAPI
    from starlette.concurrency import run_in_threadpool

    app = FastAPI()
    hop = args.serve == "bare-post-thread"

    def noop(doc: Any) -> Any:
        return doc

    @app.post("/v1/entries")
    async def create(request: Request) -> Response:
        doc = orjson.loads(await request.body())
        if hop:  # the hop to the thread pool every registry write makes
            doc = await run_in_threadpool(noop, doc)
        return Response(b'{"status":"created"}', 201, media_type="application/json")

    idle = Probe()

    def stats() -> dict[str, Any]:
        threads = {str(t.native_id): t.name for t in threading.enumerate()}
        return {"prepare": idle.snapshot(), "commit": idle.snapshot(), "threads": threads}

    app.add_api_route("/bench/stats", stats, methods=["GET"])
    app.router.routes.insert(0, app.router.routes.pop())  # before the web UI's catch-all
    facts = {"synchronous": None, "journal_mode": None, "group_commit": None}
    write_ready(args.ready_file, {"token": "none", **facts})
    run_server(app, args)


def serve(args: argparse.Namespace) -> None:
    if args.serve.startswith("bare"):
        serve_bare(args)
        return

    from hyper_registry import Registry, Settings
    from hyper_registry.api import create_app
    from hyper_registry.demo import load_demo

    registry = Registry.open(Settings(data_dir=args.data_dir))
    load_demo(registry)
    _, token = registry.tokens.create("bench-writer", "writer")
    prepare, commit = Probe(), Probe()
    pipeline = registry.pipeline
    pipeline.prepare = prepare.wrap(pipeline.prepare)  # type: ignore[method-assign]
    pipeline.commit = commit.wrap(pipeline.commit, count_items=True)  # type: ignore[method-assign]
    if args.serve == "null-commit":
        _null_commits(registry)
    app = create_app(registry)

    def stats() -> dict[str, Any]:  # a plain route beside the API's (no token, no audit)
        threads = {str(t.native_id): t.name for t in threading.enumerate()}
        return {"prepare": prepare.snapshot(), "commit": commit.snapshot(), "threads": threads}

    app.add_api_route("/bench/stats", stats, methods=["GET"])
    app.router.routes.insert(0, app.router.routes.pop())  # before the web UI's catch-all
    write_ready(args.ready_file, {"token": token, **sqlite_facts(registry)})
    run_server(app, args)
    registry.close()


# -- the client ------------------------------------------------------------------------


def post(path: str, token: str, body: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def document(name: str) -> bytes:
    return DOC_TEMPLATE.replace(b"@NAME@", name.encode())


def single_maker(path: str, token: str, prefix: str) -> RequestMaker:
    """One new document per request: ``<prefix>-<n>``."""
    count = 0

    def make() -> bytes:
        nonlocal count
        count += 1
        return post(path, token, document(f"{prefix}-{count}"))

    return make


def batch_maker(token: str, prefix: str, size: int) -> RequestMaker:
    """A JSON list of ``size`` new documents per request."""
    count = 0

    def make() -> bytes:
        nonlocal count
        count += 1
        docs = [document(f"{prefix}-b{count}-{i}") for i in range(size)]
        return post("/v1/apply", token, b"[" + b",".join(docs) + b"]")

    return make


def fdatasync_rate(directory: str, seconds: float = 1.0) -> float:
    """Appends of 4 KiB + ``fdatasync`` per second in ``directory`` (one durable commit's floor)."""
    fd, path = tempfile.mkstemp(dir=directory, prefix="sync-probe-")
    try:
        block = b"\0" * 4096
        n, end = 0, time.perf_counter() + seconds
        t0 = time.perf_counter()
        while time.perf_counter() < end:
            os.write(fd, block)
            os.fdatasync(fd)
            n += 1
        return n / (time.perf_counter() - t0)
    finally:
        os.close(fd)
        os.unlink(path)


def _null_commits(registry: Any) -> None:
    """Diagnostic: creates are validated as usual, then answered as if committed at once,
    with nothing written (the HTTP and validation floor of a create)."""
    import asyncio

    from hyper_registry.core.ids import timestamp, utcnow, uuid7
    from hyper_registry.store.base import WriteResult
    from hyper_registry.store.writer import EntryBuild

    def commit_later(item: Any) -> Any:
        done = asyncio.get_running_loop().create_future()
        uid, now = uuid7(), timestamp(utcnow())
        build = EntryBuild(item, uid, 1, now, now, "{}")
        done.set_result(WriteResult(0, item.ref, "created", uid, 1, build=build))
        return done

    registry.commit_later = commit_later


def measure(script: str, mode: str, rep: int, args: argparse.Namespace) -> dict[str, Any]:
    """One window of ``mode`` on a fresh server; its figures."""
    if not args.no_wait:
        wait_for_quiet()
    extra = ["--profile", f"{args.profile}.{mode}.{rep}"] if args.profile else []
    with ServerProcess(script, mode, extra) as server:
        token = server.info["token"]
        tag = f"w{rep}"
        if mode == "batch":
            makers = [batch_maker(token, tag, args.batch)]
        else:
            path = "/v1/apply" if mode == "single-apply" else "/v1/entries"
            makers = [single_maker(path, token, f"{tag}-c{c}") for c in range(args.conns)]

        def probe() -> Any:
            stats = get_json(server.port, "/bench/stats")
            stats["tasks"] = task_cpu(server.pid)
            return stats

        window = run_load(
            server.port,
            makers,
            warmup=args.warmup,
            seconds=args.seconds,
            server_pid=server.pid,
            probe=probe,
        )
        verify = args.verify and not mode.startswith("bare")
        written = count_written(server.port, token) if verify else None
        facts = {k: server.info[k] for k in ("synchronous", "journal_mode", "group_commit")}
    return figures_of(mode, window, server.pid, args, facts, written)


def task_cpu(pid: int) -> dict[str, tuple[float, float]]:
    """User and system CPU seconds of each thread of ``pid`` (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, tuple[float, float]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        out[task.name] = (int(fields[11]) / tick, int(fields[12]) / tick)
    return out


def thread_split(pid: int, s0: Any, s1: Any) -> dict[str, float]:
    """CPU seconds of the window per kind of server thread, and user / system overall."""
    split = {"event_loop": 0.0, "group_commit": 0.0, "thread_pool": 0.0, "user": 0.0, "sys": 0.0}
    names = {**s0["threads"], **s1["threads"]}
    for tid, (u1, y1) in s1["tasks"].items():
        u0, y0 = s0["tasks"].get(tid, (0.0, 0.0))
        used = (u1 - u0) + (y1 - y0)
        split["user"] += u1 - u0
        split["sys"] += y1 - y0
        if int(tid) == pid:
            split["event_loop"] += used
        elif names.get(tid) == "hyper-registry-group-commit":
            split["group_commit"] += used
        else:  # anyio's worker threads (and sqlite / uvloop helpers, if any)
            split["thread_pool"] += used
    return split


def count_written(port: int, token: str) -> int:
    """How many bench documents the store holds (paged through the search API)."""
    total, cursor = 0, None
    while True:
        path = f"/v1/entries?namespace={NAMESPACE}&allVersions=true&limit=500"
        page = get_json(port, path + (f"&cursor={cursor}" if cursor else ""), token)
        total += len(page["items"])
        cursor = page.get("nextCursor")
        if not cursor:
            return total


def figures_of(
    mode: str,
    window: Window,
    pid: int,
    args: argparse.Namespace,
    facts: dict[str, Any],
    written: int | None,
) -> dict[str, Any]:
    per = args.batch if mode == "batch" else 1
    ok = window.ok
    docs = ok * per
    if mode == "batch":
        busy = sum(window.latencies_ms) / 1000
        rate = docs / busy if busy else 0.0
    else:
        rate = docs / window.seconds
    assert window.server_stats is not None
    s0, s1 = window.server_stats
    commit = {k: s1["commit"][k] - s0["commit"][k] for k in s1["commit"]}
    prepare = {k: s1["prepare"][k] - s0["prepare"][k] for k in s1["prepare"]}
    split = thread_split(pid, s0, s1)
    d = max(docs, 1)
    server_us = window.server_cpu_s / d * 1e6
    prepare_us = prepare["cpu"] / d * 1e6
    commit_us = commit["cpu"] / d * 1e6
    out: dict[str, Any] = {
        "entries_per_s": round(rate, 1),
        "requests_per_s": round(ok / window.seconds, 2),
        "p50_ms": round(percentile(window.latencies_ms, 50), 3),
        "p99_ms": round(percentile(window.latencies_ms, 99), 3),
        "server_cpu_us_per_entry": round(server_us, 1),
        "server_cores": round(window.server_cpu_s / window.seconds, 3),
        "client_cores": round(window.client_cpu_s / window.seconds, 3),
        "commits": int(commit["calls"]),
        "entries_per_commit": round(commit["items"] / commit["calls"], 2) if commit["calls"] else 0,
        "commits_per_s": round(commit["calls"] / window.seconds, 1),
        "prepare_cpu_us_per_entry": round(prepare_us, 1),
        "commit_cpu_us_per_entry": round(commit_us, 1),
        "other_cpu_us_per_entry": round(server_us - prepare_us - commit_us, 1),
        **{f"{k}_thread_cpu_us_per_entry": round(v / d * 1e6, 1) for k, v in split.items()},
        "commit_wall_share": round(commit["wall"] / window.seconds, 3),
        "commit_wall_ms_per_commit": round(commit["wall"] / max(commit["calls"], 1) * 1000, 3),
        "requests": window.completed,
        "non_2xx": window.errors,
        "statuses": {str(k): v for k, v in sorted(window.statuses.items())},
        "seconds": round(window.seconds, 3),
        **facts,
    }
    if written is not None:
        out["entries_in_store"] = written
    return out


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [k for k, v in rows[0].items() if isinstance(v, int | float) and not isinstance(v, bool)]
    keys = [k for k in keys if k not in ("requests", "non_2xx", "commits", "entries_in_store")]
    out: dict[str, Any] = {k: round(med([r[k] for r in rows if k in r]), 3) for k in keys}
    out["non_2xx"] = sum(r["non_2xx"] for r in rows)
    out["windows"] = rows
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--seconds", type=float, default=5.0, help="length of a measured window")
    p.add_argument("--warmup", type=float, default=1.0, help="load before each window")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--conns", type=int, default=16, help="connections of the single modes")
    p.add_argument("--batch", type=int, default=1000, help="documents per batch request")
    p.add_argument("--modes", nargs="+", choices=MODES, default=["single", "batch"])
    p.add_argument("--verify", action="store_true", help="count what the store holds after")
    p.add_argument(
        "--profile",
        metavar="PREFIX",
        help="cProfile each server's event loop thread into PREFIX.<mode>.<repeat>",
    )
    p.add_argument("--no-wait", action="store_true", help="do not wait for other benchmarks")
    p.add_argument("--serve", choices=MODES, help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--ready-file", help=argparse.SUPPRESS)
    p.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        serve(args)
        return

    script = os.path.abspath(__file__)
    if not args.no_wait:
        wait_for_quiet()
    with tempfile.TemporaryDirectory(prefix="hr-sync-probe-") as tmp:
        sync = fdatasync_rate(tmp, 1.0)
    log(f"fdatasync of a 4 KiB append: {sync:.0f}/s on this disk")
    rows: dict[str, list[dict[str, Any]]] = {m: [] for m in args.modes}
    for rep in range(args.repeats):
        for mode in args.modes:
            log(f"[{rep + 1}/{args.repeats}] {mode}: starting a fresh server ...")
            row = measure(script, mode, rep, args)
            log(
                f"[{rep + 1}/{args.repeats}] {mode:12s} {row['entries_per_s']:8.0f} entries/s"
                f"  p50 {row['p50_ms']:.2f} ms  p99 {row['p99_ms']:.2f} ms"
                f"  server {row['server_cpu_us_per_entry']:.0f} us/entry"
                f" ({row['server_cores']:.2f} cores; threads: loop"
                f" {row['event_loop_thread_cpu_us_per_entry']:.0f}"
                f", pool {row['thread_pool_thread_cpu_us_per_entry']:.0f}"
                f", commit {row['group_commit_thread_cpu_us_per_entry']:.0f};"
                f" prepare {row['prepare_cpu_us_per_entry']:.0f}"
                f", commit() {row['commit_cpu_us_per_entry']:.0f})"
                f"  {row['entries_per_commit']:.1f} entries/commit"
                f"  client {row['client_cores']:.2f} cores"
                + (f"  NON-2XX {row['non_2xx']} {row['statuses']}" if row["non_2xx"] else "")
            )
            rows[mode].append(row)

    results = {m: summarize(r) for m, r in rows.items()}
    real = [r[0] for m, r in rows.items() if not m.startswith("bare")]
    first = real[0] if real else {}
    figures: dict[str, Any] = {
        "bench": "http_apply",
        "server": "uvicorn, 1 worker, uvloop + httptools, access log off; a fresh store per window",
        "store": {
            "backend": "sqlite",
            "synchronous": first.get("synchronous"),
            "journal_mode": first.get("journal_mode"),
            "group_commit": first.get("group_commit"),
            "fdatasync_per_s": round(sync, 1),
        },
        "conns": args.conns,
        "batch": args.batch,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "repeats": args.repeats,
        "statistic": "median over repeats",
        **{m.replace("-", "_"): r for m, r in results.items()},
    }
    if "single" in results:
        single = results["single"]["entries_per_s"]
        figures["target_single_per_s"] = TARGET_SINGLE_PER_S
        figures["single_target_met"] = single >= TARGET_SINGLE_PER_S
        figures["single_vs_mlflow_creates"] = round(
            single / MLFLOW_REFERENCE["model_versions_created_per_s"], 1
        )
    figures["reference_mlflow_sqlite"] = MLFLOW_REFERENCE
    figures["machine"] = machine()
    emit(figures)


if __name__ == "__main__":
    main()
