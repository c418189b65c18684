"""Single-document creates over HTTP against ``hyper-registry serve --workers N``.

The real server command (not a benchmark app) runs in its own process group on a fresh
SQLite data dir with the demo loaded, ``synchronous=FULL`` and group commit on (the
defaults); the load generator of ``http_get.py`` drives ``POST /v1/entries`` with
``--conns`` keep-alive connections, one new model version per request, after a warm-up.
Every run counts afterwards, through the API, that the store holds every created entry.
Prints one JSON line: entries/s, p50/p99 per worker count, and the ratio to the issue's
target of 4,000 creates/s.

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
from http_get import free_port, machine, run_load

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
                single_maker("/v1/entries", token, f"{prefix}-c{c}") for c in range(args.conns)
            ]
            window = run_load(
                port, makers, warmup=args.warmup, seconds=args.seconds, server_pid=proc.pid
            )
            summary = window.summary()
            stored = count(port, token, prefix)
            runs[str(workers)] = {
                "entries_per_s": round(window.rate, 1),
                "p50_ms": summary.get("p50_ms"),
                "p99_ms": summary.get("p99_ms"),
                "non_2xx": window.errors,
                "created_during_run_and_stored": stored,
            }
            print(f"workers={workers}: {window.rate:,.0f} creates/s", file=sys.stderr)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)
    best = max(r["entries_per_s"] for r in runs.values())
    print(json.dumps({
        "bench": "http_apply_workers", "route": "POST /v1/entries", "conns": args.conns,
        "seconds": args.seconds, "runs": runs, "target_per_s": TARGET,
        "best_ratio_to_target": round(best / TARGET, 3), "machine": machine(),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
