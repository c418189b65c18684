"""GET of one entry over HTTP, beside a bare FastAPI endpoint, at concurrency 16.

Each server runs under uvicorn with one worker (uvloop and httptools, as uvicorn picks
by default) in its own process; a load generator in this process drives it over
loopback (127.0.0.1) with ``--conns`` keep-alive HTTP/1.1 connections, each sending
its next request as soon as the previous answer is complete (closed loop). The client
is a raw asyncio ``Protocol`` on uvloop, which costs a fraction of the server's CPU
per request, so the server is what saturates.

* ``entry``: ``GET /v1/entries/model/risk/fraud`` (the latest version, authenticated
  with a reader token from ``registry.tokens.create``) on a SQLite registry holding the
  demo organisation plus ``--entries`` generated models, served by
  ``hyper_registry.api.server.run`` (access log off).
* ``bare``: a FastAPI app whose one route, at the same path, returns a constant
  ``{"status": "ok"}``; the client sends the same request, token included.
* ``entry-no-store`` (not run by default): ``entry`` with ``registry.get`` answering a
  prebuilt ``Entry`` from memory: the HTTP API's own cost without the store's read.
* ``entry-access-log`` (not run by default): ``entry`` with the options
  ``hyper-registry serve`` uses (uvicorn's ``info`` log level and access log, sent to
  /dev/null here), to show what the access log costs.

Both servers are started once and measured in turn (bare, entry, bare, entry, ...),
``--repeats`` times, each window preceded by ``--warmup`` seconds of the same load.
Per window: requests/s, p50 and p99 latency (the client's, send to last byte), the
server's CPU time per request (user + system from /proc, all its threads) and the
cores the server and the client used. The JSON line carries the medians over the
repeats and every window; the ratio is entry / bare of the median requests/s.

    python bench/http_get.py                       # 3 repeats of 5 s, 16 connections
    python bench/http_get.py --seconds 10 --repeats 5 --variants bare entry entry-access-log

``--profile FILE`` runs the ``entry`` server under cProfile (its event loop thread,
where a SQLite read runs) and writes the stats to FILE when it stops; the figures of
such a run are not representative, only the shares of the profile are.

This module also holds the load generator and the server-process plumbing that
``http_apply.py`` uses.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

HOST = "127.0.0.1"
ENTRY_PATH = "/v1/entries/model/risk/fraud"
ENTRY_REF = "model:risk/fraud"
VARIANTS = ("bare", "entry", "entry-no-store", "entry-access-log")
TARGET_RATIO = 0.5
TARGET_READS_PER_S = 5000
MLFLOW_REFERENCE: dict[str, Any] = {
    "what": "reference constants from the issue, NOT measured here (MLflow is not installed): "
    "an MLflow tracking server on SQLite on this machine",
    "model_versions_created_per_s": 83,
    "reads_per_s": 111,
}

RequestMaker = Callable[[], bytes]


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


def emit(figures: dict[str, Any]) -> None:
    """The one JSON line on stdout."""
    sys.stdout.write(json.dumps(figures, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100), linear interpolation between closest ranks."""
    s = sorted(values)
    if not s:
        return float("nan")
    pos = (len(s) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def med(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def machine() -> dict[str, Any]:
    return {
        "date": time.strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its threads (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def other_benchmarks() -> list[str]:
    """Command lines of the other helper's benchmarks still running (they share the cores)."""
    out = subprocess.run(
        ["pgrep", "-af", "bench/(bulk_register|get_latency|impact)"],
        capture_output=True,
        text=True,
        check=False,
    )
    return [line for line in out.stdout.splitlines() if line.strip()]


def wait_for_quiet(max_wait: float = 1200.0, poll: float = 10.0) -> None:
    """Wait (up to ``max_wait`` s) until no other benchmark process runs on the machine."""
    deadline = time.monotonic() + max_wait
    while True:
        busy = other_benchmarks()
        if not busy:
            return
        if time.monotonic() > deadline:
            log(f"other benchmarks still running after {max_wait:.0f}s; measuring anyway: {busy}")
            return
        log(f"waiting for other benchmarks to finish: {busy[0]}")
        time.sleep(poll)


# -- the server process ----------------------------------------------------------------


def uvicorn_options(access_log: bool = False) -> dict[str, Any]:
    """What every measured server runs with: one worker, uvicorn's default loop and parser."""
    if access_log:  # what ``hyper-registry serve`` does (api/server.py defaults)
        return {"log_level": "info", "access_log": True}
    return {"log_level": "warning", "access_log": False}


def write_ready(path: str, info: dict[str, Any]) -> None:
    """Tell the parent the server's token and facts (atomically: it polls for the file)."""
    tmp = f"{path}.tmp"
    Path(tmp).write_text(json.dumps(info))
    os.replace(tmp, path)


def sqlite_facts(registry: Any) -> dict[str, Any]:
    """PRAGMAs of the registry's own pooled connections, as the server writes with them."""
    raw = registry.store.engine.raw_connection()
    try:
        cur = raw.cursor()
        sync = cur.execute("PRAGMA synchronous").fetchone()[0]
        journal = cur.execute("PRAGMA journal_mode").fetchone()[0]
        cur.close()
    finally:
        raw.close()
    names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
    return {
        "synchronous": names.get(int(sync), str(sync)),
        "journal_mode": str(journal),
        "group_commit": bool(registry.settings.group_commit),
    }


@contextlib.contextmanager
def profiling(path: str | None) -> Iterator[None]:
    """cProfile the calling thread (the event loop's) while the block runs."""
    if not path:
        yield
        return
    import cProfile

    prof = cProfile.Profile()
    prof.enable()
    try:
        yield
    finally:
        prof.disable()
        prof.dump_stats(path)


class ServerProcess:
    """``python <script> --serve VARIANT --port P --ready-file F [extra]`` in its own process."""

    def __init__(self, script: str, variant: str, extra: Sequence[str] = ()) -> None:
        self.variant = variant
        self.port = free_port()
        self._dir = tempfile.mkdtemp(prefix="hr-http-bench-")
        self.data_dir = os.path.join(self._dir, "data")
        ready = os.path.join(self._dir, "ready.json")
        cmd = [
            sys.executable,
            script,
            "--serve",
            variant,
            "--port",
            str(self.port),
            "--ready-file",
            ready,
            "--data-dir",
            self.data_dir,
            *extra,
        ]
        # The server's stdout (uvicorn's access log when it is on) goes nowhere; its
        # stderr (warnings, tracebacks) is this process's progress stream.
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        self.info = self._wait(ready)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _wait(self, ready: str, timeout: float = 600.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the {self.variant} server exited with {self.proc.returncode}")
            if os.path.exists(ready):
                try:
                    socket.create_connection((HOST, self.port), timeout=0.2).close()
                except OSError:
                    pass
                else:
                    info: dict[str, Any] = json.loads(Path(ready).read_text())
                    return info
            time.sleep(0.05)
        self.stop()
        raise SystemExit(f"the {self.variant} server did not start within {timeout:.0f}s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # uvicorn shuts down; --profile is written
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- the load generator ----------------------------------------------------------------


@dataclass
class Window:
    """What one measurement window saw."""

    seconds: float
    completed: int
    statuses: dict[int, int]
    latencies_ms: list[float] = field(repr=False)
    server_cpu_s: float
    client_cpu_s: float
    server_stats: tuple[Any, Any] | None = field(default=None, repr=False)

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def errors(self) -> int:
        return self.completed - self.ok

    @property
    def rate(self) -> float:
        """Successful requests per second of the window."""
        return self.ok / self.seconds

    def summary(self) -> dict[str, Any]:
        ok = max(self.ok, 1)
        return {
            "requests_per_s": round(self.rate, 1),
            "p50_ms": round(percentile(self.latencies_ms, 50), 3),
            "p99_ms": round(percentile(self.latencies_ms, 99), 3),
            "server_cpu_us_per_request": round(self.server_cpu_s / ok * 1e6, 1),
            "server_cores": round(self.server_cpu_s / self.seconds, 3),
            "client_cpu_us_per_request": round(self.client_cpu_s / ok * 1e6, 1),
            "client_cores": round(self.client_cpu_s / self.seconds, 3),
            "requests": self.completed,
            "non_2xx": self.errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "seconds": round(self.seconds, 3),
        }


class _Load:
    """The shared state of one run: what is recorded, and when to stop."""

    def __init__(self) -> None:
        self.running = True
        self.recording = False
        self.t0 = 0.0
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.pending = 0

    def done(self, sent_at: float, status: int) -> None:
        if self.recording and sent_at >= self.t0:
            self.latencies.append((time.perf_counter() - sent_at) * 1000)
            self.statuses[status] = self.statuses.get(status, 0) + 1


class _Conn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection: send, read the whole answer, send the next."""

    def __init__(self, load: _Load, make: RequestMaker, closed: asyncio.Future[None]) -> None:
        self.load = load
        self.make = make
        self.closed = closed
        self.buf = bytearray()
        self.need = -1
        self.status = 0
        self.sent_at = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
        self.transport = cast(asyncio.Transport, transport)

    def send(self) -> None:
        assert self.transport is not None
        request = self.make()
        self.sent_at = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        while True:
            if self.need < 0:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(buf[:end]).lower()
                self.status = int(head[9:12])
                at = head.find(b"\r\ncontent-length:")
                if at < 0:
                    raise RuntimeError(f"an answer without Content-Length: {head[:200]!r}")
                stop = head.find(b"\r\n", at + 2)
                self.need = end + 4 + int(head[at + 17 : stop if stop >= 0 else None])
            if len(buf) < self.need:
                return
            del buf[: self.need]
            self.need = -1
            self.load.done(self.sent_at, self.status)
            assert self.transport is not None
            if self.load.running:
                self.send()
            else:
                self.transport.close()
                return

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


StatsProbe = Callable[[], Any]


async def _drive(
    port: int,
    makers: Sequence[RequestMaker],
    warmup: float,
    seconds: float,
    server_pid: int,
    probe: StatsProbe | None,
) -> Window:
    loop = asyncio.get_running_loop()
    load = _Load()
    conns: list[_Conn] = []
    for make in makers:
        closed: asyncio.Future[None] = loop.create_future()
        _, conn = await loop.create_connection(
            lambda m=make, c=closed: _Conn(load, m, c),  # type: ignore[misc]
            HOST,
            port,
        )
        conns.append(conn)
    for conn in conns:
        conn.send()
    await asyncio.sleep(warmup)
    stats0 = await loop.run_in_executor(None, probe) if probe else None
    cpu0, ccpu0 = cpu_seconds(server_pid), time.process_time()
    load.t0 = time.perf_counter()
    load.recording = True
    await asyncio.sleep(seconds)
    load.recording = False
    t1 = time.perf_counter()
    cpu1, ccpu1 = cpu_seconds(server_pid), time.process_time()
    stats1 = await loop.run_in_executor(None, probe) if probe else None
    load.running = False
    await asyncio.wait_for(asyncio.gather(*(c.closed for c in conns)), timeout=120)
    return Window(
        seconds=t1 - load.t0,
        completed=len(load.latencies),
        statuses=load.statuses,
        latencies_ms=load.latencies,
        server_cpu_s=cpu1 - cpu0,
        client_cpu_s=ccpu1 - ccpu0,
        server_stats=(stats0, stats1) if probe else None,
    )


def run_load(
    port: int,
    makers: Sequence[RequestMaker],
    *,
    warmup: float,
    seconds: float,
    server_pid: int,
    probe: StatsProbe | None = None,
) -> Window:
    """Drive ``len(makers)`` connections (one request maker each) for warmup + seconds."""
    try:
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(_drive(port, makers, warmup, seconds, server_pid, probe))


def get_json(port: int, path: str, token: str | None = None) -> Any:
    """A one-off blocking GET (setup and stats, never inside a measured window's load)."""
    import http.client

    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"GET {path}: {resp.status} {body[:300]!r}")
        return json.loads(body)
    finally:
        conn.close()


# -- this benchmark ----------------------------------------------------------------------


def generated_models(count: int) -> list[dict[str, Any]]:
    """``count`` model documents in a few namespaces, each trained on a demo dataset."""
    namespaces = ("risk", "shop", "ads", "search", "growth")
    docs = []
    for i in range(count):
        p, r = 0.8 + (i % 10) / 100, 0.7 + (i % 7) / 100
        docs.append(
            {
                "apiVersion": "hyper-registry/v1",
                "kind": "model",
                "metadata": {
                    "namespace": namespaces[i % len(namespaces)],
                    "name": f"model-{i // 4:05d}",
                    "version": f"1.{i % 4}.0",
                    "title": f"Generated model {i}",
                    "owner": "team-bench",
                    "labels": {"tier": "silver"},
                    "tags": ["xgboost", "bench"],
                },
                "spec": {
                    "framework": "xgboost",
                    "task": "binary-classification",
                    "trainingDatasets": ["dataset:risk/transactions@2026-04"],
                    "metrics": {
                        "precision": p,
                        "recall": r,
                        "f1": round(2 * p * r / (p + r), 4),
                        "auc": 0.9,
                    },
                    "primaryMetric": "auc",
                },
            }
        )
    return docs


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    if args.serve == "bare":
        from fastapi import FastAPI

        app = FastAPI()

        @app.get(ENTRY_PATH)
        async def bare() -> dict[str, str]:
            return {"status": "ok"}

        write_ready(args.ready_file, {"token": "none"})
        uvicorn.run(app, host=HOST, port=args.port, workers=1, **uvicorn_options())
        return

    from hyper_registry import Registry, Settings
    from hyper_registry.api.server import run
    from hyper_registry.demo import load_demo

    registry = Registry.open(Settings(data_dir=args.data_dir))
    load_demo(registry)
    report = registry.apply_many(generated_models(args.entries), atomic=True)
    assert report.ok
    _, token = registry.tokens.create("bench-reader", "reader")
    facts = sqlite_facts(registry)
    if args.serve == "entry-no-store":  # the API's own cost: the read answers from memory
        entry = registry.get(ENTRY_REF)
        registry.get = lambda ref: entry  # type: ignore[method-assign]
    write_ready(args.ready_file, {"token": token, "entries": registry.count(), **facts})
    options = uvicorn_options(access_log=args.serve == "entry-access-log")
    with profiling(args.profile):
        run(registry, host=HOST, port=args.port, **options)
    registry.close()


def constant(request: bytes) -> RequestMaker:
    """A request maker that sends the same bytes every time."""

    def make() -> bytes:
        return request

    return make


def get_request(token: str) -> bytes:
    return (
        f"GET {ENTRY_PATH} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()


def summarize(windows: list[Window]) -> dict[str, Any]:
    rows = [w.summary() for w in windows]
    keys = (
        "requests_per_s",
        "p50_ms",
        "p99_ms",
        "server_cpu_us_per_request",
        "server_cores",
        "client_cpu_us_per_request",
        "client_cores",
    )
    out: dict[str, Any] = {k: round(med([r[k] for r in rows]), 3) for k in keys}
    out["requests_per_core_s"] = round(1e6 / out["server_cpu_us_per_request"], 1)
    out["non_2xx"] = sum(r["non_2xx"] for r in rows)
    out["windows"] = rows
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--seconds", type=float, default=5.0, help="length of a measured window")
    p.add_argument("--warmup", type=float, default=1.0, help="load before each window")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--conns", type=int, default=16, help="concurrent connections")
    p.add_argument("--entries", type=int, default=5000, help="generated models beside the demo")
    p.add_argument("--variants", nargs="+", choices=VARIANTS, default=["bare", "entry"])
    p.add_argument("--profile", metavar="FILE", help="cProfile the entry server into FILE")
    p.add_argument("--no-wait", action="store_true", help="do not wait for other benchmarks")
    p.add_argument("--serve", choices=VARIANTS, help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--ready-file", help=argparse.SUPPRESS)
    p.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        serve(args)
        return

    script = os.path.abspath(__file__)
    servers: dict[str, ServerProcess] = {}
    windows: dict[str, list[Window]] = {v: [] for v in args.variants}
    try:
        for variant in args.variants:
            extra = ["--entries", str(args.entries)]
            if args.profile and variant == "entry":
                extra += ["--profile", args.profile]
            log(f"starting the {variant} server ...")
            servers[variant] = ServerProcess(script, variant, extra)
        info = servers.get("entry", next(iter(servers.values()))).info
        for variant, server in servers.items():  # the route answers 200 before any load
            if variant != "bare":
                get_json(server.port, ENTRY_PATH, server.info["token"])
        for rep in range(args.repeats):
            for variant, server in servers.items():
                if not args.no_wait:
                    wait_for_quiet()
                request = get_request(server.info["token"])
                window = run_load(
                    server.port,
                    [constant(request)] * args.conns,
                    warmup=args.warmup,
                    seconds=args.seconds,
                    server_pid=server.pid,
                )
                s = window.summary()
                log(
                    f"[{rep + 1}/{args.repeats}] {variant:17s} {s['requests_per_s']:8.0f} req/s"
                    f"  p50 {s['p50_ms']:.2f} ms  p99 {s['p99_ms']:.2f} ms"
                    f"  server {s['server_cpu_us_per_request']:.0f} us/req"
                    f" ({s['server_cores']:.2f} cores)  client {s['client_cores']:.2f} cores"
                    + (f"  NON-2XX {s['non_2xx']}" if s["non_2xx"] else "")
                )
                windows[variant].append(window)
    finally:
        for server in servers.values():
            server.stop()

    results = {v: summarize(ws) for v, ws in windows.items()}
    figures: dict[str, Any] = {
        "bench": "http_get",
        "route": f"GET {ENTRY_PATH} (latest version, reader token)",
        "server": "uvicorn, 1 worker, uvloop + httptools, access log off",
        "store": {"backend": "sqlite", "entries": info.get("entries")},
        "conns": args.conns,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "repeats": args.repeats,
        "statistic": "median over repeats",
        **{v.replace("-", "_"): r for v, r in results.items()},
    }
    if "bare" in results and "entry" in results:
        entry, bare = results["entry"], results["bare"]
        ratio = entry["requests_per_s"] / bare["requests_per_s"]
        figures["ratio_entry_to_bare"] = round(ratio, 3)
        figures["ratio_entry_to_bare_cpu"] = round(
            bare["server_cpu_us_per_request"] / entry["server_cpu_us_per_request"], 3
        )
        figures["target_ratio"] = TARGET_RATIO
        figures["ratio_target_met"] = ratio >= TARGET_RATIO
        log(f"entry / bare: {ratio:.0%} of the requests/s (target {TARGET_RATIO:.0%})")
    if "entry" in results:
        reads = results["entry"]["requests_per_s"]
        figures["target_reads_per_s"] = TARGET_READS_PER_S
        figures["reads_target_met"] = reads >= TARGET_READS_PER_S
    figures["reference_mlflow_sqlite"] = MLFLOW_REFERENCE
    figures["machine"] = machine()
    emit(figures)


if __name__ == "__main__":
    main()
