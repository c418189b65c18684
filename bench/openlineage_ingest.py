"""OpenLineage event ingest over HTTP: events/s into ``POST /v1/lineage``.

A fresh ``hyper-registry serve`` (its own process, SQLite, the defaults) receives a
pipeline's events: ``--jobs`` jobs, each run sending START then COMPLETE; each job
reads two datasets and writes one with a schema facet (so an event creates or updates
datasets, a transformation on the lineage edges and the run's state history). Two
clients are measured in the same run:

* ``concurrent``: ``--conns`` threads with keep-alive ``httpx`` clients, each sending
  its share of the runs (START before COMPLETE for each run);
* ``ol_client``: the real ``openlineage-python`` client (``HttpTransport``), one event
  after another, as an instrumented job would send them.

Figures: events/s (events / wall time) and p50/p99 request latency per client.

    python bench/openlineage_ingest.py --jobs 500 --conns 8
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from _common import emit, load, log, machine, percentile

PRODUCER = "https://example.com/bench-producer"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def events_for(job: int, prefix: str) -> list[dict[str, Any]]:
    run_id = str(uuid.uuid4())
    schema = {
        "_producer": PRODUCER,
        "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json",
        "fields": [{"name": "id", "type": "BIGINT"}, {"name": "value", "type": "DOUBLE"}],
    }
    base = {
        "run": {"runId": run_id},
        "job": {"namespace": "bench-scheduler", "name": f"{prefix}.job_{job}"},
        "inputs": [
            {"namespace": "bench-db", "name": f"{prefix}.raw_{job % 50}"},
            {"namespace": "bench-db", "name": f"{prefix}.ref_{job % 7}"},
        ],
        "outputs": [
            {"namespace": "bench-lake", "name": f"{prefix}.out_{job}", "facets": {"schema": schema}}
        ],
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
    }
    return [
        {**base, "eventType": state, "eventTime": f"2024-01-01T00:{job % 60:02d}:0{i}Z"}
        for i, state in enumerate(("START", "COMPLETE"))
    ]


class Server:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="ol-bench-"))
        self.port = free_port()
        exe = shutil.which("hyper-registry") or str(
            Path(sys.executable).with_name("hyper-registry")
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("HYPER_REGISTRY_")}
        env["HYPER_REGISTRY_CHECKER_ENABLED"] = "false"
        self.proc = subprocess.Popen(
            [exe, "--data-dir", str(self.dir), "serve", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        self.token = (self.dir / "admin-token").read_text().strip()

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def concurrent(server: Server, jobs: int, conns: int) -> dict[str, Any]:
    runs = [events_for(j, "c") for j in range(jobs)]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker(share: list[list[dict[str, Any]]]) -> None:
        headers = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            for run in share:
                for ev in run:
                    t = time.perf_counter()
                    res = client.post("/v1/lineage", json=ev)
                    dt = time.perf_counter() - t
                    with lock:
                        latencies.append(dt * 1000)
                        if res.status_code != 201:
                            errors.append(f"{res.status_code} {res.text[:200]}")

    threads = [threading.Thread(target=worker, args=(runs[i::conns],)) for i in range(conns)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    if errors:
        log(f"  {len(errors)} errors, first: {errors[0]}")
    n = 2 * jobs
    return {
        "events": n,
        "conns": conns,
        "events_per_s": round(n / wall, 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "errors": len(errors),
    }


def ol_client(server: Server, jobs: int) -> dict[str, Any]:
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import (
        InputDataset,
        Job,
        OutputDataset,
        Run,
        RunEvent,
        RunState,
    )
    from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

    config = HttpConfig(
        url=server.url, endpoint="v1/lineage", auth=ApiKeyTokenProvider({"apiKey": server.token})
    )
    client = OpenLineageClient(transport=HttpTransport(config))
    events = []
    for j in range(jobs):
        run = Run(runId=str(uuid.uuid4()))
        job = Job(namespace="bench-scheduler", name=f"o.job_{j}")
        for state in (RunState.START, RunState.COMPLETE):
            events.append(
                RunEvent(
                    eventType=state,
                    eventTime="2024-01-01T00:00:00Z",
                    run=run,
                    job=job,
                    producer=PRODUCER,
                    inputs=[InputDataset(namespace="bench-db", name=f"o.raw_{j % 50}")],
                    outputs=[OutputDataset(namespace="bench-lake", name=f"o.out_{j}")],
                )
            )
    latencies = []
    t0 = time.perf_counter()
    for ev in events:
        t = time.perf_counter()
        client.emit(ev)
        latencies.append((time.perf_counter() - t) * 1000)
    wall = time.perf_counter() - t0
    return {
        "events": len(events),
        "events_per_s": round(len(events) / wall, 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--jobs", type=int, default=500, help="runs per client (2 events each)")
    p.add_argument("--conns", type=int, default=8)
    args = p.parse_args()
    server = Server()
    try:
        log("concurrent httpx clients ...")
        conc = concurrent(server, args.jobs, args.conns)
        log(f"  {conc}")
        log("openlineage-python client, sequential ...")
        seq = ol_client(server, max(1, args.jobs // 2))
        log(f"  {seq}")
    finally:
        server.close()
    emit(
        {
            "bench": "openlineage_ingest",
            "backend": "sqlite",
            "concurrent": conc,
            "ol_client": seq,
            "machine": machine(),
            "load": load(),
        }
    )


if __name__ == "__main__":
    main()
