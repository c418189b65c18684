"""One health checker holding N services (default 5,000) at a 30 s interval.

A tiny HTTP server in a separate process answers ``200 ok`` on loopback (its CPU is
not counted). The registry (SQLite by default) holds N services whose health checks
point at it; one ``HealthChecker`` runs in this process. After a warm-up (every
service checked once, the first status changes written), the benchmark measures over
a window:

* ``cpu_share``: this process's CPU time (user + system, psutil) / wall time, as a
  share of one core: everything the checker does (scheduling, httpx probes, storing
  results, leases, change-log polling);
* ``lag_p99_ms`` / ``lag_p50_ms``: how late checks start after their due time;
* ``ratio`` = cpu_share / target (0.25 of one core): below 1 meets the target.

    python bench/health_checker.py                      # 5,000 services, 60 s window
    python bench/health_checker.py --services 1000 --window 20
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

from _common import Backend, emit, log, machine, parser, percentile
from hyper_registry import Registry, Settings
from hyper_registry.kinds.service.checker import HealthChecker

TARGET = 0.25

SERVER = textwrap.dedent(
    """
    import asyncio, sys

    REPLY = b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nok"

    async def handle(reader, writer):
        try:
            await reader.readuntil(b"\\r\\n\\r\\n")
            writer.write(REPLY)
            await writer.drain()
        except Exception:
            pass
        finally:
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(main())
    """
)


def documents(n: int, port: int, interval: str) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "hyper-registry/v1",
            "kind": "service",
            "metadata": {"namespace": f"team-{i % 50}", "name": f"svc-{i}", "version": "1.0.0"},
            "spec": {
                "endpoints": [f"http://127.0.0.1:{port}"],
                "healthCheck": {"path": f"/health/{i}", "interval": interval, "timeout": "2s"},
                "sla": {"availability": 99.9},
            },
        }
        for i in range(n)
    ]


def seed_state(reg: Registry) -> None:
    """Every service already known as passing, as a checker restarting on a fleet it has
    watched before finds it. (The first check ever of a service writes its entry status
    once: 5,000 durable transactions, a one-off cost not measured here.)"""
    from hyper_registry.kinds.service.tables import checks

    now = time.time()
    rows = [
        {
            "ref": f"service:team-{i % 50}/svc-{i}@1.0.0",
            "namespace": f"team-{i % 50}",
            "status": "passing",
            "since": now - 86400,
            "checked_at": now - 30,
            "latency_ms": 1.0,
            "message": "HTTP 200",
            "worker": "earlier",
        }
        for i in range(reg.count(kinds=["service"]))
    ]
    with reg.store.engine.begin() as conn:
        conn.execute(checks.insert(), rows)


def probe_results(reg: Registry, since: float) -> tuple[list[float], int]:
    """Probe latencies (ms) stored since ``since`` (how fast the local server answered),
    and how many of those checks were not passing (timeouts on a starved machine)."""
    import sqlalchemy as sa

    from hyper_registry.kinds.service.tables import results

    with reg.store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(results.c.latency_ms, results.c.status).where(results.c.at >= since)
        ).all()
    return [float(r.latency_ms) for r in rows], sum(r.status != "passing" for r in rows)


def main() -> None:
    p = parser(__doc__ or "", n=5000)
    p.add_argument("--services", type=int, default=5000)
    p.add_argument("--interval", default="30s")
    p.add_argument("--window", type=float, default=60.0, help="seconds measured")
    args = p.parse_args()
    backend = Backend(args)

    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        if backend.name == "postgres":
            backend.reset_pg()
            settings = Settings(
                data_dir=Path(tempfile.mkdtemp()),
                database_url=backend.pg_registry_url,
                checker_allow_loopback=True,
            )
        else:
            settings = Settings(
                data_dir=backend.fresh_dir(), database_url=None, checker_allow_loopback=True
            )
        reg = Registry.open(settings)
        log(f"registering {args.services} services")
        report = reg.apply_many(documents(args.services, port, args.interval), atomic=False)
        if report.errors:
            raise SystemExit(f"refused: {report.errors[0].error}")
        seed_state(reg)
        checker = HealthChecker(reg)
        checker.start()
        interval = next(iter(checker.targets.values())).interval if checker.targets else 30.0
        log(f"warm-up: one interval ({interval:g} s) so every service is checked once")
        deadline = time.monotonic() + interval * 3
        while checker.checks_done < args.services and time.monotonic() < deadline:
            time.sleep(0.5)
        while checker.pending_events and time.monotonic() < deadline + 300:
            time.sleep(0.5)  # the first status changes (one per service) get written
        log(f"warm: {checker.checks_done} checks, {checker.pending_events} events pending")
        proc = psutil.Process()
        checker.lags.clear()
        done0 = checker.checks_done
        cpu0 = sum(proc.cpu_times()[:2])
        wall0 = time.monotonic()
        log(f"measuring for {args.window:g} s")
        time.sleep(args.window)
        cpu = sum(proc.cpu_times()[:2]) - cpu0
        wall = time.monotonic() - wall0
        checks = checker.checks_done - done0
        lags = [x * 1000 for x in list(checker.lags)]
        checker.stop()
        latencies, failed = probe_results(reg, time.time() - wall)
        reg.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    share = cpu / wall
    emit(
        {
            "bench": "health_checker",
            "backend": backend.name,
            "services": args.services,
            "interval": args.interval,
            "window_s": round(wall, 1),
            "checks": checks,
            "checks_per_s": round(checks / wall, 1),
            "cpu_share": round(share, 4),
            "target_cpu_share": TARGET,
            "ratio": round(share / TARGET, 3),
            "lag_p50_ms": round(percentile(lags, 50), 2),
            "lag_p99_ms": round(percentile(lags, 99), 2),
            "probe_latency_p50_ms": round(percentile(latencies, 50), 2),
            "probe_latency_p99_ms": round(percentile(latencies, 99), 2),
            "not_passing": failed,
            "concurrency": settings.checker_concurrency,
            **machine(),
        }
    )


if __name__ == "__main__":
    main()
