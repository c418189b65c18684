"""The real ``hyper-registry serve`` in a child process, for the tests of serving itself."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

EXE = shutil.which("hyper-registry") or str(Path(sys.executable).with_name("hyper-registry"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serve(data: Path, port: int, workers: int = 2) -> subprocess.Popen[str]:
    """``serve --workers N`` on ``data``, health checks off, output captured, in a process
    group of its own (as a shell would start it: ``os.killpg`` plays a terminal's Ctrl-C)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPER_REGISTRY_")}
    env["HYPER_REGISTRY_CHECKER_ENABLED"] = "false"
    return subprocess.Popen(
        [EXE, "--data-dir", str(data), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_ready(proc: subprocess.Popen[str], url: str, timeout: float = 60.0) -> None:
    """Until ``/readyz`` answers 200; fails with the server's output if it exits or times out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            out = proc.stdout.read() if proc.stdout else ""
            pytest.fail(f"the server did not start:\n{out}")
        time.sleep(0.2)


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
