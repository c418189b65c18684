"""Requests per second of ``GET /v1/entries/...`` against a bare FastAPI endpoint.

Not a test (pytest does not collect it): a quick local measurement. Each server runs
under uvicorn with one worker in its own process; a small raw-socket HTTP/1.1 client
with keep-alive connections drives it from another process. Besides requests/s it
prints the server's CPU time per request (from /proc), which stays meaningful when
other work shares the machine: "req/s per core" is the capacity of one saturated core.

    python tests/api/reqs_per_second.py            # all variants, 5 s each
    python tests/api/reqs_per_second.py --seconds 10 --conns 32 --only entry bare
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ENTRY_PATH = "/v1/entries/model/shop/detector"
VARIANTS = ("bare", "bare-sync", "entry", "entry-threadpool", "entry-no-store")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(variant: str, port: int, token_file: str) -> None:
    import uvicorn
    from fastapi import FastAPI

    app: Any
    if variant.startswith("bare"):
        app = FastAPI()
        if variant == "bare":

            @app.get(ENTRY_PATH)
            async def bare() -> dict[str, str]:
                return {"status": "ok"}
        else:

            @app.get(ENTRY_PATH)
            def bare_sync() -> dict[str, str]:
                return {"status": "ok"}

        Path(token_file).write_text("none")
    else:
        from hyper_registry import Registry, Settings
        from hyper_registry.api import create_app

        reg = Registry.open(Settings(data_dir=tempfile.mkdtemp(prefix="hr-rps-")))
        reg.apply(
            {
                "apiVersion": "hyper-registry/v1",
                "kind": "model",
                "metadata": {
                    "namespace": "shop",
                    "name": "detector",
                    "version": "1.0.0",
                    "title": "Detector",
                    "owner": "team-trust",
                    "tags": ["xgboost"],
                },
                "spec": {"framework": "xgboost", "metrics": {"accuracy": 0.97}},
            }
        )
        _, token = reg.tokens.create("bench", "reader", None)
        app = create_app(reg)
        if variant == "entry-threadpool":
            app.state.api.inline_reads = False
        elif variant == "entry-no-store":  # the API's own cost: the store answers from memory
            entry = reg.get("model:shop/detector")
            reg.get = lambda ref: entry  # type: ignore[method-assign]
        Path(token_file).write_text(token)
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, log_level="warning", access_log=False)


async def _conn(port: int, request: bytes, deadline: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.monotonic() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            counts[0 if status == 200 else 1] += 1
    finally:
        writer.close()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _load(
    port: int, token: str, seconds: float, conns: int, pid: int
) -> tuple[float, float, int]:
    request = (
        f"GET {ENTRY_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    warm = time.monotonic() + 1.0
    await asyncio.gather(*[_conn(port, request, warm, [0, 0]) for _ in range(conns)])
    counts = [0, 0]
    cpu = _cpu_seconds(pid)
    start = time.monotonic()
    await asyncio.gather(*[_conn(port, request, start + seconds, counts) for _ in range(conns)])
    elapsed = time.monotonic() - start
    cpu = _cpu_seconds(pid) - cpu
    done = max(counts[0], 1)
    return counts[0] / elapsed, cpu / done * 1e6, counts[1]


def measure(variant: str, seconds: float, conns: int) -> tuple[float, float]:
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        token_file = os.path.join(tmp, "token")
        proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                variant,
                "--port",
                str(port),
                "--token-file",
                token_file,
            ]
        )
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                    if os.path.exists(token_file):
                        break
                except OSError:
                    pass
                time.sleep(0.05)
            token = Path(token_file).read_text().strip()
            rps, cpu_us, errors = asyncio.run(_load(port, token, seconds, conns, proc.pid))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    if errors:
        print(f"  {variant}: {errors} non-200 answers", file=sys.stderr)
    return rps, cpu_us


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--conns", type=int, default=16)
    parser.add_argument("--only", nargs="*", choices=VARIANTS)
    parser.add_argument("--serve", choices=VARIANTS)
    parser.add_argument("--port", type=int)
    parser.add_argument("--token-file")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.token_file)
        return
    results = {v: measure(v, args.seconds, args.conns) for v in (args.only or VARIANTS)}
    print(f"{'variant':18s} {'req/s':>9s} {'server CPU/req':>15s} {'req/s per core':>15s}")
    for variant, (rps, cpu_us) in results.items():
        print(f"{variant:18s} {rps:9.0f} {cpu_us:12.0f} us {1e6 / cpu_us:15.0f}")
    if "bare" in results and "entry" in results:
        wall = results["entry"][0] / results["bare"][0]
        cpu = results["bare"][1] / results["entry"][1]
        print(f"entry / bare: {wall:.0%} of the requests/s, {cpu:.0%} per core of server CPU")


if __name__ == "__main__":
    main()
