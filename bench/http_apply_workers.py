"""Single-document creates over HTTP against ``hyper-registry serve --workers N``.

The real server command (not a benchmark app) runs in its own process group on a fresh
SQLite data dir with the demo loaded, ``synchronous=FULL`` and group commit on (the
defaults); the load generator of ``http_get.py`` drives ``POST /v1/entries`` with
``--conns`` keep-alive connections, one new model version per request, after a warm-up.
Every run counts afterwards, through the API, that the store holds every created entry.

Where the CPU goes: over the measured window, the CPU time of every process of the
server's process group (the master, each worker, the writer process; from /proc), of the
load generator (this process), and of the whole machine (/proc/stat: busy against all
jiffies). From these, per create: the server's CPU (all its processes), the client's, and
``cpu_bound_per_s``: the creates/s the machine's cores could carry at that CPU per create
(server + client) if nothing else ran and no core ever waited.

Prints one JSON line: entries/s, p50/p99, the CPU figures per worker count, and the ratio
to the issue's target of 4,000 creates/s.

    python bench/http_apply_workers.py --workers 1 2 --seconds 5
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from http_apply import single_maker
from http_get import constant, cpu_seconds, free_port, get_request, machine, run_load

TARGET = 4000.0
EXE = str(Path(sys.executable).with_name("hyper-registry"))


def serve(data: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPER_REGISTRY_")}
    env["HYPER_REGISTRY_CHECKER_ENABLED"] = "false"
    proc = subprocess.Popen(
        [EXE, "--data-dir", str(data), "serve", "--demo", "--port", str(port),
         "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not start")


def group_cpu(pgid: int) -> dict[str, float]:
    """CPU seconds of each live process of a process group, keyed ``pid:role``."""
    out: dict[str, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            pid = int(stat.parent.name)
            cmd = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            out[f"{pid}:{role(pid, pgid, cmd)}"] = cpu_seconds(pid)
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return out


def role(pid: int, pgid: int, cmd: str) -> str:
    if pid == pgid:
        return "master"
    if "writer_worker" in cmd:
        return "writer"
    return "worker"


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def probe(pgid: int) -> Any:
    return group_cpu(pgid), time.process_time(), machine_jiffies()


def cpu_figures(stats: tuple[Any, Any], creates: int, seconds: float) -> dict[str, Any]:
    (procs0, client0, (busy0, all0)), (procs1, client1, (busy1, all1)) = stats
    per_role: dict[str, float] = {}
    for key, end in procs1.items():
        spent = end - procs0.get(key, 0.0)
        r = key.split(":", 1)[1]
        per_role[r] = per_role.get(r, 0.0) + spent
    server = sum(per_role.values())
    client = client1 - client0
    n = max(creates, 1)
    cores = os.cpu_count() or 1
    per_create = (server + client) / n
    return {
        "server_cpu_us_per_create": round(server / n * 1e6, 1),
        "server_cpu_us_per_create_by_role": {r: round(v / n * 1e6, 1) for r, v in per_role.items()},
        "client_cpu_us_per_create": round(client / n * 1e6, 1),
        "server_cores": round(server / seconds, 2),
        "client_cores": round(client / seconds, 2),
        "machine_busy": round((busy1 - busy0) / max(all1 - all0, 1), 3),
        "cpu_bound_per_s": round(cores / per_create) if per_create > 0 else None,
    }


def count(port: int, token: str, prefix: str) -> int:
    total, cursor = 0, None
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as c:
        while True:
            params: dict[str, Any] = {"namespace": "bench", "q": prefix, "limit": 500}
            if cursor:
                params["cursor"] = cursor
            page = c.get("/v1/entries", params=params, headers={"Authorization": f"Bearer {token}"})
            body = page.json()
            total += sum(1 for e in body["items"] if e["metadata"]["name"].startswith(prefix))
            cursor = body.get("nextCursor")
            if not cursor:
                return total


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--conns", type=int, default=16)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument(
        "--route",
        choices=("create", "get"),
        default="create",
        help="create: POST /v1/entries (default); get: GET of one demo entry (read scaling)",
    )
    args = p.parse_args()
    runs: dict[str, Any] = {}
    for workers in args.workers:
        data = Path(tempfile.mkdtemp(prefix="hr-bench-workers-"))
        port = free_port()
        proc = serve(data, port, workers)
        try:
            token = (data / "admin-token").read_text().strip()
            prefix = f"w{workers}"
            makers = [
                single_maker("/v1/entries", token, f"{prefix}-c{c}")
                if args.route == "create"
                else constant(get_request(token))
                for c in range(args.conns)
            ]
            window = run_load(
                port,
                makers,
                warmup=args.warmup,
                seconds=args.seconds,
                server_pid=proc.pid,
                probe=lambda pgid=proc.pid: probe(pgid),
            )
            summary = window.summary()
            stored = count(port, token, prefix) if args.route == "create" else None
            runs[str(workers)] = {
                "entries_per_s": round(window.rate, 1),
                "p50_ms": summary.get("p50_ms"),
                "p99_ms": summary.get("p99_ms"),
                "non_2xx": window.errors,
                "created_during_run_and_stored": stored,
            }
            assert window.server_stats is not None
            runs[str(workers)].update(cpu_figures(window.server_stats, window.ok, window.seconds))
            print(
                f"workers={workers}: {window.rate:,.0f} creates/s; "
                f"{json.dumps({k: v for k, v in runs[str(workers)].items() if 'cpu' in k})}",
                file=sys.stderr,
            )
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)
    best = max(r["entries_per_s"] for r in runs.values())
    print(json.dumps({
        "bench": "http_apply_workers",
        "route": "POST /v1/entries" if args.route == "create" else "GET one entry", "conns": args.conns,
        "seconds": args.seconds, "runs": runs, "target_per_s": TARGET,
        "best_ratio_to_target": round(best / TARGET, 3), "machine": machine(),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
